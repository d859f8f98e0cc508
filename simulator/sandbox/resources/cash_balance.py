"""A customer's cash balance (https://docs.stripe.com/api/cash_balance) and its
transactions (https://docs.stripe.com/api/cash_balance_transactions).

The balance holds money a customer sent by bank transfer that no payment has taken yet, by
currency; it lives on the customer (:class:`Customer` ``cash_available``). Every move in or
out of it is a ``customer_cash_balance_transaction``: ``funded`` when a transfer arrives,
``applied_to_payment`` when a PaymentIntent takes some, ``unapplied_from_payment`` when a
canceled one gives it back; each carries the balance it left (``ending_balance``) and is
announced by ``customer_cash_balance_transaction.created``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from simulator.sandbox import virtual_accounts
from simulator.sandbox.errors import InvalidRequestError, resource_missing
from simulator.sandbox.params import Params
from simulator.sandbox.resources.base import Ctx, StripeObject, load, save
from simulator.sandbox.resources.customer import (
    Customer,
    read_reconciliation_mode,
    set_cash_reconciliation,
)

TransactionType = Literal["funded", "applied_to_payment", "unapplied_from_payment"]


@dataclass(kw_only=True)
class CashBalanceTransaction(StripeObject):
    OBJECT = "customer_cash_balance_transaction"
    PREFIX = "ccsbtxn"
    NOUN = "customer_cash_balance_transaction"
    FILTERS = ("customer",)
    EXPANDABLE = frozenset({"customer"})

    customer: str
    currency: str
    type: TransactionType
    net_amount: int
    ending_balance: int
    # The hash named after the type (``funded``, ``applied_to_payment``, ...).
    details: dict[str, Any] = field(default_factory=dict)

    def serialize(self, ctx: Ctx) -> dict[str, Any]:
        return {
            "id": self.id,
            "object": "customer_cash_balance_transaction",
            self.type: dict(self.details),
            "created": self.created,
            "currency": self.currency,
            "customer": self.customer,
            "customer_account": None,
            "ending_balance": self.ending_balance,
            "livemode": False,
            "net_amount": self.net_amount,
            "type": self.type,
        }


@dataclass(frozen=True)
class CashBalance:
    """The ``cash_balance`` object as an event carries it (it has no id of its own)."""

    id: str
    data: dict[str, Any]

    def serialize(self, ctx: Ctx) -> dict[str, Any]:
        return dict(self.data)


def funds_available(ctx: Ctx, customer: Customer) -> None:
    """``cash_balance.funds_available``: money is left in the balance for the merchant to
    use (after automatic reconciliation, or any new funds under manual reconciliation)."""
    ctx.emit("cash_balance.funds_available", CashBalance(customer.id, customer.cash_balance()))


def record(ctx: Ctx, customer: Customer, currency: str, net_amount: int,
           kind: TransactionType, details: dict[str, Any]) -> CashBalanceTransaction:
    """Move ``net_amount`` in or out of the customer's balance (saved with its event; the
    caller saves the customer)."""
    ending = customer.cash_available.get(currency, 0) + net_amount
    customer.cash_available[currency] = ending
    transaction = CashBalanceTransaction(
        id=ctx.ids.new(CashBalanceTransaction.PREFIX), created=ctx.now, customer=customer.id,
        currency=currency, type=kind, net_amount=net_amount, ending_balance=ending,
        details=details)
    save(ctx, transaction)
    ctx.emit("customer_cash_balance_transaction.created", transaction)
    return transaction


def funding_currency(currency: str) -> str:
    """The bank transfer type that funds a balance in ``currency``; other currencies have
    no cash balance."""
    kind = virtual_accounts.TYPE_FOR_CURRENCY.get(currency)
    if kind is None:
        supported = ", ".join(sorted(virtual_accounts.TYPE_FOR_CURRENCY))
        raise InvalidRequestError(
            f"Cash balances cannot hold {currency}. Bank transfers fund a cash balance in one"
            f" of: {supported}.", param="currency")
    return kind


def funded_details(kind: str, reference: str | None) -> dict[str, Any]:
    """``funded``: the bank transfer, whose sender a test funding does not name."""
    senders: dict[str, dict[str, Any]] = {
        "eu_bank_transfer": {"bic": None, "iban_last4": None, "sender_name": None},
        "gb_bank_transfer": {"account_number_last4": None, "sender_name": None,
                             "sort_code": None},
        "jp_bank_transfer": {"sender_bank": None, "sender_branch": None, "sender_name": None},
        "us_bank_transfer": {"network": "ach", "sender_name": None},
    }
    transfer: dict[str, Any] = {"reference": reference, "type": kind}
    if kind in senders:
        transfer[kind] = senders[kind]
    return {"bank_transfer": transfer}


# -- requests ---------------------------------------------------------------------------
@dataclass(frozen=True)
class CashBalanceUpdate:
    """``POST /v1/customers/{customer}/cash_balance``: ``settings[reconciliation_mode]``
    (``merchant_default`` follows the account's mode again)."""

    reconciliation_mode: str | None = None

    @classmethod
    def from_params(cls, params: Params) -> CashBalanceUpdate:
        return cls(read_reconciliation_mode(params))


@dataclass(frozen=True)
class CashBalanceFunding:
    """``POST /v1/test_helpers/customers/{customer}/fund_cash_balance``: a bank transfer
    of ``amount`` in a currency a cash balance can hold."""

    amount: int
    currency: str
    reference: str | None = None

    @classmethod
    def from_params(cls, params: Params) -> CashBalanceFunding:
        amount = params.required_integer("amount", minimum=1)
        currency = params.currency(required=True)
        assert currency is not None
        reference = params.string("reference")
        funding_currency(currency)
        return cls(amount, currency, reference)


@dataclass(frozen=True)
class CashApplication:
    """``POST /v1/payment_intents/{intent}/apply_customer_balance``: ``amount`` (by default
    what the PaymentIntent still lacks), in the PaymentIntent's ``currency`` if given."""

    amount: int | None = None
    currency: str | None = None

    @classmethod
    def from_params(cls, params: Params) -> CashApplication:
        return cls(params.integer("amount", minimum=1), params.currency())


# -- operations -------------------------------------------------------------------------
def retrieve_cash_balance(ctx: Ctx, customer_id: str) -> dict[str, Any]:
    return load(ctx, Customer, customer_id).cash_balance()


def update_cash_balance(ctx: Ctx, customer_id: str, request: CashBalanceUpdate
                        ) -> dict[str, Any]:
    """``POST /v1/customers/{customer}/cash_balance``: its settings."""
    customer = load(ctx, Customer, customer_id)
    set_cash_reconciliation(customer, request.reconciliation_mode)
    save(ctx, customer)
    return customer.cash_balance()


def retrieve_transaction(ctx: Ctx, customer_id: str, transaction_id: str
                         ) -> CashBalanceTransaction:
    load(ctx, Customer, customer_id)
    transaction = load(ctx, CashBalanceTransaction, transaction_id)
    if transaction.customer != customer_id:
        raise resource_missing(CashBalanceTransaction.NOUN, transaction_id)
    return transaction
