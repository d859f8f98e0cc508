"""Charges made directly with a card source: ``POST /v1/charges`` with ``source`` (a token)
or ``customer`` (its default card, or ``source`` naming one of its cards), and
``POST /v1/charges/{id}/capture`` (https://docs.stripe.com/api/charges/create).

The card behaves as its test number does (https://docs.stripe.com/testing): a decline
records a failed charge, emits ``charge.failed`` and answers 402 with the card error and
the charge's id; a card that needs 3-D Secure can't authenticate on this API, so it is
declined with ``authentication_required``. ``capture=false`` authorizes only; capturing
later emits ``charge.captured``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from simulator.sandbox import cards
from simulator.sandbox.errors import CardError, InvalidRequestError
from simulator.sandbox.params import Params, apply_metadata
from simulator.sandbox.resources import charge as charges
from simulator.sandbox.resources import dispute as disputes
from simulator.sandbox.resources.base import Ctx, load, previous_attributes, save
from simulator.sandbox.resources.card import Card, customer_card
from simulator.sandbox.resources.common import UNSET, Maybe
from simulator.sandbox.resources.customer import Customer
from simulator.sandbox.resources.payment_intent import check_amount
from simulator.sandbox.resources.payment_intent_requests import PaymentDetails, read_amount
from simulator.sandbox.resources.token import card_for_source

# The Charges API has no 3-D Secure step: cards that require it are declined.
AUTHENTICATION_DECLINE = cards.decline("authentication_required")
NO_SOURCE = "Cannot charge a customer that has no active card"
CAPTURE_FIELDS = ("receipt_email", "statement_descriptor", "statement_descriptor_suffix",
                  "transfer_group")


@dataclass(frozen=True)
class ChargeCreate:
    """``source`` (a token) or ``customer`` (its default card, or the card ``source``
    names); ``capture=false`` authorizes only."""

    amount: int
    currency: str
    details: PaymentDetails = field(default_factory=PaymentDetails)
    source: str | None = None
    customer: str | None = None
    capture: bool = True

    @classmethod
    def from_params(cls, params: Params) -> ChargeCreate:
        amount, currency = read_amount(params)
        source = params.string("source")
        customer = params.string("customer")
        capture = params.boolean("capture") is not False
        params.raw("radar_options")
        details = PaymentDetails.from_params(params)
        params.finish()
        return cls(amount, currency, details, source, customer, capture)


@dataclass(frozen=True)
class ChargeCapture:
    """All (``amount`` not given) or part of an uncaptured charge, and the fields that
    capturing may still change."""

    amount: int | None = None
    receipt_email: Maybe[str | None] = UNSET
    statement_descriptor: Maybe[str | None] = UNSET
    statement_descriptor_suffix: Maybe[str | None] = UNSET
    transfer_group: Maybe[str | None] = UNSET

    @classmethod
    def from_params(cls, params: Params) -> ChargeCapture:
        amount = params.integer("amount", minimum=1)
        text = {name: params.string(name) for name in CAPTURE_FIELDS if name in params}
        params.finish()
        return cls(amount, **text)


def _customer_source(ctx: Ctx, customer: Customer, source: str | None) -> Card:
    if source is None:
        if customer.default_source is None:
            raise InvalidRequestError(NO_SOURCE, code="missing", param="card")
        return customer_card(ctx, customer.id, customer.default_source)
    card = load(ctx, Card, source, "source") if source.startswith("card_") else None
    if card is None or card.customer != customer.id:
        raise InvalidRequestError(
            f"Customer {customer.id} does not have a linked source with ID {source}.",
            code="missing", param="source")
    return card


def _card_to_charge(ctx: Ctx, source: str | None, customer_id: str | None) -> Card:
    if customer_id is not None:
        return _customer_source(ctx, load(ctx, Customer, customer_id, "customer"), source)
    if source is None:
        raise InvalidRequestError("Must provide source or customer.")
    if not source.startswith("tok_"):
        raise InvalidRequestError(f"No such token: '{source}'", code="resource_missing",
                                  param="source")
    return card_for_source(ctx, source)


def _decline_for(card: Card) -> cards.Decline | None:
    profile = card.profile()
    if profile.three_ds.required or profile.three_ds is cards.ThreeDS.LOOKUP_ERROR:
        return AUTHENTICATION_DECLINE
    decline = profile.decline
    if decline is not None and decline.code == "incorrect_cvc" and not card.cvc_provided:
        return None  # "Stripe skips the CVC check if it is omitted"
    return decline


def _new_charge(ctx: Ctx, card: Card, amount: int, currency: str,
                decline: cards.Decline | None) -> charges.Charge:
    charge_id = f"ch_1{ctx.ids.sortable(23)}"  # ch_3: PaymentIntent charges
    profile = card.profile()
    return charges.Charge(
        id=charge_id,
        created=ctx.now,
        amount=amount,
        currency=currency,
        status="failed" if decline else "succeeded",
        payment_method=card.id,
        card=charges.card_details(card, profile, amount, charge_id, decline, None),
        outcome=charges.outcome(profile, decline, charge_id),
        billing_details=card.billing_details,
        customer=card.customer,
        failure_code=decline.code if decline else None,
        failure_message=decline.message if decline else None,
        source=card.serialize(ctx),
    )


def create_charge(ctx: Ctx, request: ChargeCreate) -> charges.Charge:
    amount, currency = request.amount, request.currency
    check_amount(amount, currency)
    card = _card_to_charge(ctx, request.source, request.customer)
    decline = _decline_for(card)
    charge = _new_charge(ctx, card, amount, currency, decline)
    request.details.set_on(charge)
    charge.metadata = apply_metadata({}, request.details.metadata)
    if decline is not None:
        save(ctx, charge)
        ctx.emit("charge.failed", charge)
        raise CardError(decline.message, code=decline.code, param=decline.param,
                        decline_code=decline.decline_code, extra={"charge": charge.id})
    if request.capture:
        charges.capture(ctx, charge, amount)
    save(ctx, charge)
    ctx.emit("charge.succeeded", charge)
    if charge.captured:
        disputes.open_dispute(ctx, charge)
    return charge


def capture_charge(ctx: Ctx, charge_id: str, request: ChargeCapture) -> charges.Charge:
    """Capture all or part of an uncaptured charge made with a source; the rest is
    released (reported as refunded)."""
    charge = load(ctx, charges.Charge, charge_id)
    for name in CAPTURE_FIELDS:
        if (value := getattr(request, name)) is not UNSET:
            setattr(charge, name, value)
    if charge.payment_intent is not None:
        raise InvalidRequestError(
            "This charge belongs to a PaymentIntent: capture the PaymentIntent"
            f" {charge.payment_intent} instead.", param="charge")
    if charge.captured or charge.status != "succeeded":
        raise InvalidRequestError(f"Charge {charge.id} has already been captured.",
                                  code="charge_already_captured")
    amount = charge.amount if request.amount is None else request.amount
    if amount > charge.amount:
        raise InvalidRequestError(
            "The payment could not be captured because the requested capture amount is"
            " greater than the amount you can capture for this charge.",
            code="amount_too_large", param="amount")
    before = charge.serialize(ctx)
    charges.capture(ctx, charge, amount)
    save(ctx, charge)
    ctx.emit("charge.captured", charge, previous_attributes(before, charge.serialize(ctx)))
    disputes.open_dispute(ctx, charge)
    return charge
