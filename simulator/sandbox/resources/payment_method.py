"""PaymentMethods (https://docs.stripe.com/api/payment_methods): cards, the bank debits
``sepa_debit`` and ``us_bank_account`` (``bank_accounts.py``), and ``customer_balance``,
which holds nothing: it pays from the customer's cash balance (``bank_transfer.py``).

A card PaymentMethod comes from raw card details (``card[number]``, ``card[exp_month]``,
``card[exp_year]``, ``card[cvc]``), from a test token (``card[token]=tok_visa``) or from a
test id such as ``pm_card_visa``, which creates a fresh ``pm_`` object each time it is
used (https://docs.stripe.com/testing#cards). The full number and CVC are never stored:
only the brand, last four digits, expiry, whether a CVC was given, and the fingerprint,
which is also how the card's test behaviour is found again (:mod:`simulator.sandbox.cards`).

Rules from the API reference: cards that simulate issuer declines cannot be attached;
a PaymentMethod used without a customer, or detached, can't be used again; updates need
the PaymentMethod to be attached to a customer.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from typing import Any, Literal

from simulator.sandbox import bank_accounts, cards
from simulator.sandbox.errors import CardError, InvalidRequestError, resource_missing
from simulator.sandbox.params import apply_metadata
from simulator.sandbox.resources.base import (
    Ctx,
    StripeObject,
    find,
    load,
    previous_attributes,
    save,
)
from simulator.sandbox.resources.card import Card
from simulator.sandbox.resources.common import empty_billing_details
from simulator.sandbox.resources.customer import Customer
from simulator.sandbox.resources.payment_method_data import (
    ALLOW_REDISPLAY as ALLOW_REDISPLAY,  # the list filter's choices
)
from simulator.sandbox.resources.payment_method_data import (
    BankAccountDetails,
    CardDetails,
    PaymentMethodChoice,
    PaymentMethodData,
    PaymentMethodUpdate,
)

MAX_YEARS_AHEAD = 50
CONSUMED_MESSAGE = (
    "The provided PaymentMethod was previously used with a PaymentIntent without Customer"
    " attachment, shared with a connected account without Customer attachment, or was detached"
    " from a Customer. It may not be used again. To use a PaymentMethod multiple times, you must"
    " attach it to a Customer first."
)


@dataclass(kw_only=True)
class PaymentMethod(StripeObject):
    OBJECT = "payment_method"
    PREFIX = "pm"
    NOUN = "PaymentMethod"
    FILTERS = ("customer", "type")
    EXPANDABLE = frozenset({"customer"})

    type: Literal["card", "customer_balance", "sepa_debit", "us_bank_account"] = "card"
    # A card's (empty for a bank account):
    brand: str = ""
    country: str = ""
    funding: cards.Funding = "unknown"
    last4: str = ""
    fingerprint: str = ""  # also the key of the card's test behaviour in the catalogue
    exp_month: int = 0
    exp_year: int = 0
    # A bank account's ``sepa_debit`` / ``us_bank_account`` hash (``bank_accounts.py``):
    bank: dict[str, Any] | None = None
    cvc_provided: bool = False
    customer: str | None = None
    billing_details: dict[str, Any] = field(default_factory=empty_billing_details)
    allow_redisplay: str = "unspecified"
    metadata: dict[str, str] = field(default_factory=dict)
    consumed: bool = False

    def profile(self) -> cards.CardProfile:
        """The card's test behaviour; numbers outside the catalogue simply succeed."""
        found = cards.by_fingerprint(self.fingerprint)
        if found is not None:
            return found
        return cards.CardProfile(
            number="0" * 12 + self.last4,
            brand=self.brand,
            country=self.country,
            funding=self.funding,
        )

    def checks(self) -> dict[str, str | None]:
        """Checks not yet run against the issuer read ``unchecked`` (null when absent)."""
        address = self.billing_details.get("address") or {}
        return {
            "address_line1_check": "unchecked" if address.get("line1") else None,
            "address_postal_code_check": "unchecked" if address.get("postal_code") else None,
            "cvc_check": "unchecked" if self.cvc_provided else None,
        }

    @property
    def is_card(self) -> bool:
        return self.type == "card"

    def serialize(self, ctx: Ctx) -> dict[str, Any]:
        details: dict[str, Any] = {"card": self.serialize_card()} if self.is_card else {
            str(self.type): dict(self.bank or {})}  # customer_balance's hash is empty
        return {
            "id": self.id,
            "object": "payment_method",
            "allow_redisplay": self.allow_redisplay,
            "billing_details": self.billing_details,
            **details,
            "created": self.created,
            "customer": self.customer,
            "livemode": False,
            "metadata": dict(self.metadata),
            "type": self.type,
            "customer_account": None,
        }

    def serialize_card(self) -> dict[str, Any]:
        profile = self.profile()
        return {
            "brand": self.brand,
            "checks": self.checks(),
            "country": self.country,
            "display_brand": profile.display_brand,
            "exp_month": self.exp_month,
            "exp_year": self.exp_year,
            "fingerprint": self.fingerprint,
            "funding": self.funding,
            "generated_from": None,
            "last4": self.last4,
            "networks": {"available": profile.networks, "preferred": None},
            "three_d_secure_usage": {"supported": profile.three_ds.supported},
            "wallet": None,
            "regulated_status": "unregulated",
        }


# -- card details -----------------------------------------------------------------------
def _card_error(message: str, code: str, param: str) -> CardError:
    return CardError(message, code=code, param=param)


def _validate_number(number: str) -> str:
    digits = cards.normalize(number)
    if not cards.luhn_valid(digits):
        raise _card_error("Your card number is incorrect.", "incorrect_number", "number")
    return digits


def _validate_expiry(ctx: Ctx, exp_month: int, exp_year: int) -> int:
    """Two-digit years mean 20xx; a past date or one more than 50 years ahead is refused."""
    year = exp_year + 2000 if exp_year < 100 else exp_year
    today = _dt.datetime.fromtimestamp(ctx.now, tz=_dt.UTC)
    if not 1 <= exp_month <= 12:
        raise _card_error(
            "Your card's expiration month is invalid.", "invalid_expiry_month", "exp_month"
        )
    if year < today.year or year > today.year + MAX_YEARS_AHEAD:
        raise _card_error(
            "Your card's expiration year is invalid.", "invalid_expiry_year", "exp_year"
        )
    if year == today.year and exp_month < today.month:
        raise _card_error(
            "Your card's expiration month is invalid.", "invalid_expiry_month", "exp_month"
        )
    return year


def _validate_cvc(cvc: str | None, brand: str) -> None:
    if cvc is None:
        return
    length = 4 if brand == "amex" else 3
    if not cvc.isdigit() or len(cvc) not in (3, length):
        raise _card_error("Your card's security code is invalid.", "invalid_cvc", "cvc")


def _test_expiry(ctx: Ctx) -> tuple[int, int]:
    """Test PaymentMethods expire a year from now."""
    today = _dt.datetime.fromtimestamp(ctx.now, tz=_dt.UTC)
    return today.month, today.year + 1


def _from_profile(ctx: Ctx, profile: cards.CardProfile, cvc_provided: bool) -> PaymentMethod:
    month, year = _test_expiry(ctx)
    return PaymentMethod(
        id=ctx.ids.new("pm"),
        created=ctx.now,
        brand=profile.brand,
        country=profile.country,
        funding=profile.funding,
        last4=profile.last4,
        fingerprint=profile.fingerprint,
        exp_month=month,
        exp_year=year,
        cvc_provided=cvc_provided,
    )


def _card_payment_method(ctx: Ctx, card: CardDetails) -> PaymentMethod:
    if card.token is not None:
        profile = cards.by_token(card.token)
        if profile is None:
            raise resource_missing("token", card.token, "card[token]")
        return _from_profile(ctx, profile, cvc_provided=True)
    assert card.number is not None and card.exp_month is not None and card.exp_year is not None
    number = _validate_number(card.number)
    profile = cards.by_number(number)
    year = _validate_expiry(ctx, card.exp_month, card.exp_year)
    _validate_cvc(card.cvc, profile.brand)
    pm = _from_profile(ctx, profile, cvc_provided=card.cvc is not None)
    pm.exp_month, pm.exp_year = card.exp_month, year
    return pm


def _bank_payment_method(ctx: Ctx, method: str, account: BankAccountDetails,
                         billing: dict[str, Any]) -> PaymentMethod:
    """A ``sepa_debit`` or ``us_bank_account`` PaymentMethod: the account holder's name is
    required, as for every bank debit."""
    try:
        if method == "sepa_debit":
            assert account.iban is not None
            details = bank_accounts.sepa_details(account.iban)
        else:
            assert account.routing_number is not None and account.account_number is not None
            details = bank_accounts.us_bank_details(
                account.routing_number, account.account_number, account.account_holder_type,
                account.account_type)
    except bank_accounts.InvalidAccount as invalid:
        raise InvalidRequestError(str(invalid), param=invalid.param) from None
    if not billing.get("name"):
        raise InvalidRequestError(
            f"Missing required param: billing_details[name]. A {method} PaymentMethod needs"
            " the account holder's name.", code="parameter_missing",
            param="billing_details[name]")
    return PaymentMethod(id=ctx.ids.new("pm"), created=ctx.now, type=method,  # type: ignore[arg-type]
                         bank=details)


def build_payment_method(ctx: Ctx, data: PaymentMethodData) -> PaymentMethod:
    """A new (unsaved) PaymentMethod: the object behind ``POST /v1/payment_methods``,
    ``payment_method_data`` and the hosted page's card form."""
    if data.card is not None:
        pm = _card_payment_method(ctx, data.card)
    elif data.bank_account is not None:
        pm = _bank_payment_method(ctx, data.type, data.bank_account, data.billing_details)
    else:  # customer_balance: it pays from the customer's cash balance
        pm = PaymentMethod(id=ctx.ids.new("pm"), created=ctx.now, type="customer_balance")
    pm.billing_details = dict(data.billing_details)
    pm.metadata = apply_metadata({}, data.metadata)
    pm.allow_redisplay = data.allow_redisplay
    return pm


def check_type_allowed(method: str, allowed: list[str] | None,
                       automatic: dict[str, Any] | None) -> None:
    """A PaymentIntent that lists its payment method types takes only those."""
    if automatic is None and method not in (allowed or []):
        raise InvalidRequestError(
            f"The PaymentMethod provided ({method}) is not allowed for this PaymentIntent."
            f" Please attach a PaymentMethod of one of the following types:"
            f" {', '.join(allowed or [])}.", param="payment_method")


# -- operations -------------------------------------------------------------------------
def create_payment_method(ctx: Ctx, data: PaymentMethodData) -> PaymentMethod:
    pm = build_payment_method(ctx, data)
    save(ctx, pm)
    return pm


def chosen_payment_method(ctx: Ctx, choice: PaymentMethodChoice
                          ) -> tuple[PaymentMethod, bool] | None:
    """The PaymentMethod a PaymentIntent or SetupIntent request names, and whether it is
    new and still unsaved; ``None`` when it names none."""
    if choice.data is not None:
        return build_payment_method(ctx, choice.data), True
    if choice.id is not None:
        return resolve_payment_method(ctx, choice.id, "payment_method")
    return None


def resolve_payment_method(ctx: Ctx, pm_id: str, param: str) -> tuple[PaymentMethod, bool]:
    """A stored PaymentMethod, or a fresh one for a test id such as ``pm_card_visa``
    (returned unsaved, with ``True``, so that its first save carries its final state)."""
    if pm_id.startswith("pm_card_"):
        profile = cards.by_payment_method_id(pm_id)
        if profile is None:
            raise resource_missing(PaymentMethod.NOUN, pm_id, param)
        return _from_profile(ctx, profile, cvc_provided=True), True
    return load_payment_method(ctx, pm_id, param), False


def load_payment_method(ctx: Ctx, pm_id: str, param: str = "id") -> PaymentMethod:
    """A PaymentMethod by id; a customer's saved card (``card_…``) is one too, as Stripe
    takes "a PaymentMethod, Card, or compatible Source" wherever it takes a PaymentMethod
    (https://docs.stripe.com/payments/payment-methods/transitioning). The card stays
    the stored object: the PaymentMethod seen through it is never saved."""
    if pm_id.startswith("card_"):
        card = find(ctx, Card, pm_id)
        if card is None or card.is_deleted() or card.customer is None:
            raise resource_missing(PaymentMethod.NOUN, pm_id, param)
        return PaymentMethod(
            id=card.id, created=card.created, brand=card.brand, country=card.country,
            funding=card.funding, last4=card.last4, fingerprint=card.fingerprint,
            exp_month=card.exp_month, exp_year=card.exp_year, cvc_provided=card.cvc_provided,
            customer=card.customer, billing_details=card.billing_details,
            metadata=dict(card.metadata))
    return load(ctx, PaymentMethod, pm_id, param)


def retrieve_payment_method(ctx: Ctx, pm_id: str) -> PaymentMethod:
    return load_payment_method(ctx, pm_id)


def update_payment_method(ctx: Ctx, pm_id: str, request: PaymentMethodUpdate
                          ) -> PaymentMethod:
    pm = load(ctx, PaymentMethod, pm_id)
    before = pm.serialize(ctx)
    pm.billing_details = {**pm.billing_details, **request.billing_details}
    _update_expiry(ctx, pm, request.exp_month, request.exp_year)
    if request.allow_redisplay is not None:
        pm.allow_redisplay = request.allow_redisplay
    pm.metadata = apply_metadata(pm.metadata, request.metadata)
    if pm.customer is None:
        raise InvalidRequestError(
            "You must save this PaymentMethod to a customer before you can update it."
        )
    save(ctx, pm)
    _emit_change(ctx, "payment_method.updated", pm, before)
    return pm


def _update_expiry(ctx: Ctx, pm: PaymentMethod, month: int | None, year: int | None) -> None:
    if month is None and year is None:
        return
    pm.exp_year = _validate_expiry(ctx, month or pm.exp_month, year or pm.exp_year)
    pm.exp_month = month or pm.exp_month


def _emit_change(ctx: Ctx, event_type: str, pm: PaymentMethod, before: dict[str, Any]) -> None:
    after = pm.serialize(ctx)
    ctx.emit(event_type, pm, previous_attributes(before, after))


def attach_payment_method(ctx: Ctx, pm_id: str, customer_id: str, param: str) -> PaymentMethod:
    """``POST /v1/payment_methods/{id}/attach`` and ``customer.create(payment_method=…)``."""
    customer = load(ctx, Customer, customer_id, "customer")
    pm, _ = resolve_payment_method(ctx, pm_id, param)
    if pm.customer == customer.id:
        return pm
    check_attachable(pm)
    attach(ctx, pm, customer.id)
    return pm


def check_attachable(pm: PaymentMethod) -> None:
    if pm.customer is not None:
        raise InvalidRequestError(
            "The payment method you provided has already been attached to a customer."
        )
    if pm.consumed:
        raise InvalidRequestError(
            "This PaymentMethod was previously used without being attached to a Customer or"
            " was detached from a Customer, and may not be used again."
        )
    profile = pm.profile()
    if profile.declines_on_attach and profile.decline is not None:
        decline = profile.decline
        raise CardError(decline.message, code=decline.code, param=decline.param,
                        decline_code=decline.decline_code)


def attach(ctx: Ctx, pm: PaymentMethod, customer_id: str) -> None:
    """Attach (and save) a PaymentMethod already checked by :func:`check_attachable`."""
    before = pm.serialize(ctx)
    pm.customer = customer_id
    save(ctx, pm)
    _emit_change(ctx, "payment_method.attached", pm, before)


def detach_payment_method(ctx: Ctx, pm_id: str) -> PaymentMethod:
    """Detaching also clears the customer's default, and the PaymentMethod can't be reused."""
    pm = load(ctx, PaymentMethod, pm_id)
    if pm.customer is None:
        raise InvalidRequestError(
            "The payment method you provided is not attached to a customer so detachment is"
            " impossible."
        )
    before = pm.serialize(ctx)
    _clear_default(ctx, pm.customer, pm.id)
    pm.customer = None
    pm.consumed = True
    save(ctx, pm)
    _emit_change(ctx, "payment_method.detached", pm, before)
    return pm


def _clear_default(ctx: Ctx, customer_id: str, pm_id: str) -> None:
    customer = find(ctx, Customer, customer_id)
    if customer is None or customer.default_payment_method != pm_id:
        return
    before = customer.serialize(ctx)
    customer.default_payment_method = None
    save(ctx, customer)
    ctx.emit("customer.updated", customer, previous_attributes(before, customer.serialize(ctx)))


def require_attached(ctx: Ctx, pm_id: str, customer_id: str, param: str) -> str:
    """The id of a PaymentMethod attached to ``customer_id`` (for default settings)."""
    pm, _ = resolve_payment_method(ctx, pm_id, param)
    if pm.customer != customer_id:
        raise InvalidRequestError(
            f"The customer does not have a payment method with the ID {pm.id}. The payment"
            " method must be attached to the customer.",
            param=param,
        )
    return pm.id


def customer_payment_method(ctx: Ctx, customer_id: str, pm_id: str) -> PaymentMethod:
    """``GET /v1/customers/{customer}/payment_methods/{id}``."""
    load(ctx, Customer, customer_id)
    pm = load(ctx, PaymentMethod, pm_id)
    if pm.customer != customer_id:
        raise resource_missing(PaymentMethod.NOUN, pm_id)
    return pm
