"""Paying a Checkout Session: what the hosted page, the headless completion route and
the Stripe CLI's ``/v1/payment_pages/{id}/confirm`` all do.

Checkout creates the session's PaymentIntent at the first attempt and reuses it for the
next ones, so every attempt (declined, challenged, paid) is recorded on one
PaymentIntent, as on Stripe. A decline keeps the session open for another card.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from simulator.sandbox.errors import CardError, InvalidRequestError
from simulator.sandbox.hosted.card_form import CardInput
from simulator.sandbox.resources import checkout_session as sessions
from simulator.sandbox.resources import coupon as coupons
from simulator.sandbox.resources import payment_intent as intents
from simulator.sandbox.resources.base import Ctx, find, load
from simulator.sandbox.resources.common import UNSET, empty_billing_details
from simulator.sandbox.resources.payment_intent_requests import (
    DETAIL_FIELDS,
    PaymentDetails,
    PaymentIntentCreate,
    PaymentMethodTypes,
    PaymentOptions,
)
from simulator.sandbox.resources.payment_method import (
    PaymentMethod,
    build_payment_method,
    resolve_payment_method,
)
from simulator.sandbox.resources.payment_method_data import (
    CardDetails,
    PaymentMethodData,
)

REUSABLE = ("requires_payment_method", "requires_confirmation", "requires_action")
PAID = ("succeeded", "requires_capture", "processing")
# What hosted Checkout tells a buyer whose bank refused the 3-D Secure challenge.
AUTHENTICATION_FAILED = (
    "We are unable to authenticate your payment method. Please choose a different payment"
    " method and try again."
)

Status = Literal["paid", "requires_action", "declined"]


@dataclass
class PaymentOutcome:
    status: Status
    session: sessions.CheckoutSession
    payment_intent: intents.PaymentIntent | None  # none for a session with nothing due
    message: str | None = None
    error: dict[str, Any] = field(default_factory=dict)

    @property
    def redirect_url(self) -> str | None:
        return self.session.success_redirect() if self.status == "paid" else None


@dataclass(frozen=True)
class Buyer:
    email: str | None = None
    name: str | None = None
    country: str | None = None
    postal_code: str | None = None

    def billing_details(self) -> dict[str, Any]:
        """The PaymentMethod's ``billing_details``: what the buyer typed, the rest empty."""
        details = empty_billing_details()
        details.update(email=self.email or None, name=self.name or None)
        details["address"] = {**details["address"], "country": self.country or None,
                              "postal_code": self.postal_code or None}
        return details


def card_payment_method(ctx: Ctx, card: CardInput) -> PaymentMethod:
    """A PaymentMethod for what the buyer typed (the number itself is never stored)."""
    buyer = Buyer(card.email, card.name, card.country, card.postal_code)
    return build_payment_method(ctx, PaymentMethodData(
        type="card", billing_details=buyer.billing_details(),
        card=CardDetails(number=card.number, exp_month=card.exp_month,
                         exp_year=card.exp_year, cvc=card.cvc)))


def pay(ctx: Ctx, session_id: str, payment: tuple[PaymentMethod, bool], buyer: Buyer,
        *, expected_amount: int | None = None) -> PaymentOutcome:
    """One attempt to pay ``session_id`` with a PaymentMethod."""
    session = sessions.open_session_for_payment(ctx, session_id)
    if expected_amount is not None and expected_amount != session.amount_total:
        raise InvalidRequestError(
            f"The expected amount ({expected_amount}) does not match the Checkout Session's"
            f" amount_total ({session.amount_total}).", param="expected_amount")
    for discount in session.discounts:
        coupons.check_redemptions_left(ctx, discount["coupon"])
    if session.amount_total == 0:
        return PaymentOutcome("paid", _complete(ctx, session, None, buyer), None)
    intent = _session_intent(ctx, session, buyer)
    try:
        intents.confirm_payment(ctx, intent, payment, intents.Attempt())
    except CardError as declined:
        return PaymentOutcome("declined", session, intent, declined.message,
                              declined.to_dict()["error"])
    return _settle(ctx, session, intent, buyer)


def pay_with_payment_method(ctx: Ctx, session_id: str, pm_id: str, buyer: Buyer,
                            expected_amount: int | None = None) -> PaymentOutcome:
    payment = resolve_payment_method(ctx, pm_id, "payment_method")
    return pay(ctx, session_id, payment, buyer, expected_amount=expected_amount)


def after_challenge(ctx: Ctx, session_id: str) -> PaymentOutcome:
    """Where the session stands once the buyer left the 3-D Secure challenge."""
    session = load(ctx, sessions.CheckoutSession, session_id)
    if session.payment_intent is None:
        raise InvalidRequestError("This Checkout Session has no payment in progress.")
    intent = load(ctx, intents.PaymentIntent, session.payment_intent, "payment_intent")
    if session.status == "complete" or intent.status in PAID:
        buyer = buyer_of(ctx, intent.payment_method)
        return _settle(ctx, session, intent, buyer) if session.status == "open" else \
            PaymentOutcome("paid", session, intent)
    if intent.status == "requires_action":
        return PaymentOutcome("requires_action", session, intent)
    error = intent.last_payment_error or {}
    return PaymentOutcome("declined", session, intent, page_message(error), dict(error))


def page_message(error: dict[str, Any]) -> str | None:
    """What the page tells the buyer about a failed attempt: the card's decline, or
    Checkout's own words for a failed 3-D Secure challenge."""
    if error.get("code") in ("payment_intent_authentication_failure",
                             "setup_intent_authentication_failure"):
        return AUTHENTICATION_FAILED
    message: str | None = error.get("message")
    return message


def _session_intent(ctx: Ctx, session: sessions.CheckoutSession,
                    buyer: Buyer) -> intents.PaymentIntent:
    """The session's PaymentIntent, created at the first attempt from
    ``payment_intent_data`` and ``payment_method_options``."""
    if session.payment_intent is not None:
        existing = find(ctx, intents.PaymentIntent, session.payment_intent)
        if existing is not None and existing.status in REUSABLE:
            return existing
    data = session.payment_intent_data
    assert session.amount_total is not None, "a session with a payment has a total"
    described = {name: data[name] for name in DETAIL_FIELDS if data.get(name)}
    described.setdefault("receipt_email", buyer.email or UNSET)
    described["metadata"] = dict(described.get("metadata") or {})
    details = PaymentDetails(**described)
    card_options = (session.payment_method_options or {}).get("card") or {}
    three_d_secure = card_options.get("request_three_d_secure")
    options = PaymentOptions(
        capture_method=data.get("capture_method") or None,
        setup_future_usage=data.get("setup_future_usage") or UNSET,
        card={"request_three_d_secure": three_d_secure} if three_d_secure else {})
    types = list(session.payment_method_types or ())
    allowed = types if any(name != "card" for name in types) else None
    intent = intents.create_payment_intent(ctx, PaymentIntentCreate(
        amount=session.amount_total, currency=session.currency or "usd",
        customer=session.customer or None, details=details, options=options,
        method_types=PaymentMethodTypes(allowed_payment_method_types=allowed)))
    sessions.attach_payment_intent(ctx, session, intent.id)
    return intent


def _settle(ctx: Ctx, session: sessions.CheckoutSession, intent: intents.PaymentIntent,
            buyer: Buyer) -> PaymentOutcome:
    if intent.status == "requires_action":
        return PaymentOutcome("requires_action", session, intent)
    return PaymentOutcome("paid", _complete(ctx, session, intent, buyer), intent)


def _complete(ctx: Ctx, session: sessions.CheckoutSession,
              intent: intents.PaymentIntent | None, buyer: Buyer) -> sessions.CheckoutSession:
    details = {
        "email": buyer.email or session.customer_email,
        "name": buyer.name,
        "address": {"city": None, "country": buyer.country, "line1": None, "line2": None,
                    "postal_code": buyer.postal_code, "state": None},
    }
    return sessions.mark_session_complete(
        ctx, session, intent.id if intent else None, details,
        payment_pending=intent is not None and intent.status == "processing")


def buyer_of(ctx: Ctx, pm_id: str | None) -> Buyer:
    """The buyer as the card's billing details name them."""
    pm = find(ctx, PaymentMethod, pm_id) if pm_id else None
    details = pm.billing_details if pm else {}
    address = details.get("address") or {}
    return Buyer(details.get("email"), details.get("name"), address.get("country"),
                 address.get("postal_code"))
