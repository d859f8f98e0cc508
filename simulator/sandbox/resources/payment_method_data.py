"""What a new PaymentMethod is made from, and how one is chosen or updated, as typed
requests read at the edge.

``POST /v1/payment_methods``, ``payment_method_data`` on a PaymentIntent or SetupIntent,
the hosted page and its headless completion all describe a new PaymentMethod the same way.
The HTTP edge reads the form into :class:`PaymentMethodData` (``from_params``, which
checks what can be checked without the database and names the offending parameter);
internal callers build it directly. ``payment_method.build_payment_method`` then makes the
object, with the checks that need the sandbox (the clock for an expiry, the test cards).
A PaymentIntent or SetupIntent names its PaymentMethod with a :class:`PaymentMethodChoice`
(an id or new details); ``POST /v1/payment_methods/{id}`` is a :class:`PaymentMethodUpdate`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from simulator.sandbox import bank_accounts
from simulator.sandbox.errors import InvalidRequestError
from simulator.sandbox.params import Params
from simulator.sandbox.resources.common import empty_address, empty_billing_details, read_address

ALLOW_REDISPLAY = ("always", "limited", "unspecified")
PAYMENT_METHOD_TYPES = ("card", "customer_balance", *bank_accounts.BANK_METHODS)


@dataclass(frozen=True)
class CardDetails:
    """Raw card details, or a test token (``tok_visa``) instead of them."""

    number: str | None = None
    exp_month: int | None = None
    exp_year: int | None = None
    cvc: str | None = None
    token: str | None = None

    @classmethod
    def from_params(cls, card: Params) -> CardDetails:
        if (token := card.string("token")) is not None:
            return cls(token=token)
        number = card.required_string("number")
        exp_month = card.required_integer("exp_month")
        exp_year = card.required_integer("exp_year")
        cvc = card.string("cvc")
        card.raw("networks")
        return cls(number=number, exp_month=exp_month, exp_year=exp_year, cvc=cvc)


@dataclass(frozen=True)
class BankAccountDetails:
    """A ``sepa_debit`` IBAN or a ``us_bank_account`` routing and account number."""

    iban: str | None = None
    routing_number: str | None = None
    account_number: str | None = None
    account_holder_type: str | None = None
    account_type: str | None = None

    @classmethod
    def from_params(cls, method: str, account: Params) -> BankAccountDetails:
        if method == "sepa_debit":
            details = cls(iban=account.required_string("iban"))
        else:
            details = cls(
                routing_number=account.required_string("routing_number"),
                account_number=account.required_string("account_number"),
                account_holder_type=account.enum("account_holder_type",
                                                 ("individual", "company")),
                account_type=account.enum("account_type", ("checking", "savings")))
            account.raw("financial_connections_account")
        account.finish()
        return details


@dataclass(frozen=True)
class PaymentMethodData:
    """A new PaymentMethod: its type, the details of that type, and what every type has.

    ``billing_details`` is complete: the keys not given are empty, as Stripe shows them."""

    type: str
    card: CardDetails | None = None
    bank_account: BankAccountDetails | None = None
    billing_details: dict[str, Any] = field(default_factory=empty_billing_details)
    metadata: dict[str, str] | None = None
    allow_redisplay: str = "unspecified"

    @classmethod
    def from_params(cls, params: Params) -> PaymentMethodData:
        pm_type = params.enum("type", PAYMENT_METHOD_TYPES, required=True)
        assert pm_type is not None
        card = bank_account = None
        if pm_type == "card":
            card_params = params.hash("card", required=True)
            assert card_params is not None
            card = CardDetails.from_params(card_params)
        elif pm_type == "customer_balance":
            params.hash("customer_balance")  # an empty hash: nothing to give
        billing = {**empty_billing_details(),
                   **read_billing_changes(params.hash("billing_details"))}
        if pm_type in bank_accounts.BANK_METHODS:
            account = params.hash(pm_type, required=True)
            assert account is not None
            bank_account = BankAccountDetails.from_params(pm_type, account)
        return cls(type=pm_type, card=card, bank_account=bank_account, billing_details=billing,
                   metadata=params.metadata(),
                   allow_redisplay=params.enum("allow_redisplay", ALLOW_REDISPLAY)
                   or "unspecified")


@dataclass(frozen=True)
class PaymentMethodChoice:
    """``payment_method`` (an id, or a test id such as ``pm_card_visa``) or
    ``payment_method_data`` (a new one), never both; neither leaves the current one."""

    id: str | None = None
    data: PaymentMethodData | None = None

    @classmethod
    def from_params(cls, params: Params) -> PaymentMethodChoice:
        data = params.hash("payment_method_data")
        pm_id = params.string("payment_method")
        if data is not None and pm_id is not None:
            raise InvalidRequestError(
                "You cannot pass both `payment_method` and `payment_method_data`.",
                param="payment_method_data")
        return cls(pm_id, PaymentMethodData.from_params(data) if data is not None else None)


@dataclass(frozen=True)
class PaymentMethodUpdate:
    """``POST /v1/payment_methods/{id}``: the billing details given (merged over the
    current ones), a card's new expiry, ``allow_redisplay`` and metadata changes."""

    billing_details: dict[str, Any] = field(default_factory=dict)
    exp_month: int | None = None
    exp_year: int | None = None
    allow_redisplay: str | None = None
    metadata: dict[str, str] | None = None

    @classmethod
    def from_params(cls, params: Params) -> PaymentMethodUpdate:
        billing = read_billing_changes(params.hash("billing_details"))
        exp_month = exp_year = None
        if (card := params.hash("card")) is not None:
            exp_month, exp_year = card.integer("exp_month"), card.integer("exp_year")
            card.raw("networks")
        request = cls(billing, exp_month, exp_year,
                      params.enum("allow_redisplay", ALLOW_REDISPLAY), params.metadata())
        params.finish()
        return request


def read_billing_changes(params: Params | None) -> dict[str, Any]:
    """The billing details given: an address replaces the whole address, the other keys
    only themselves."""
    changes: dict[str, Any] = {}
    if params is None:
        return changes
    if "address" in params:
        changes["address"] = read_address(params.hash("address")) or empty_address()
    for name in ("email", "name", "phone", "tax_id"):
        if name in params:
            changes[name] = params.string(name)
    return changes
