"""Saving a card on a ``setup`` Checkout Session: what the hosted page and the headless
completion route do (https://docs.stripe.com/payments/save-and-reuse?platform=checkout).

The session's SetupIntent is confirmed with the card the customer entered: a declining
card keeps the session open for another one, a card that asks for 3-D Secure goes through
the same challenge as a SetupIntent made through the API, and once the card is set up it
is attached to the session's customer (made now when ``customer_creation=always``) and
the session completes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from simulator.sandbox.errors import CardError
from simulator.sandbox.flows.customers import create_customer
from simulator.sandbox.hosted.checkout_flow import Buyer, buyer_of, page_message
from simulator.sandbox.resources import checkout_session as sessions
from simulator.sandbox.resources import setup_intent as setups
from simulator.sandbox.resources.base import Ctx, find, load
from simulator.sandbox.resources.customer import Customer
from simulator.sandbox.resources.customer_requests import UNSET, CustomerCreate, CustomerFields
from simulator.sandbox.resources.payment_method import PaymentMethod

Status = Literal["succeeded", "requires_action", "declined"]


@dataclass
class SetupOutcome:
    status: Status
    session: sessions.CheckoutSession
    setup_intent: setups.SetupIntent
    message: str | None = None
    error: dict[str, Any] = field(default_factory=dict)

    @property
    def redirect_url(self) -> str | None:
        return self.session.success_redirect() if self.status == "succeeded" else None


def save_card(ctx: Ctx, session_id: str, payment: tuple[PaymentMethod, bool],
              buyer: Buyer) -> SetupOutcome:
    """One attempt to set up the card the customer entered."""
    session = sessions.open_session_for_payment(ctx, session_id)
    seti = _session_setup_intent(ctx, session)
    _customer_for(ctx, session, seti, buyer)
    try:
        setups.confirm_with_payment_method(ctx, seti, *payment)
    except CardError as declined:
        return SetupOutcome("declined", session, seti, declined.message,
                            declined.to_dict()["error"])
    return _settle(ctx, session, seti, buyer)


def after_setup_challenge(ctx: Ctx, session_id: str) -> SetupOutcome:
    """Where the session stands once the customer left the 3-D Secure challenge."""
    session = load(ctx, sessions.CheckoutSession, session_id)
    seti = _session_setup_intent(ctx, session)
    if session.status == "complete":
        return SetupOutcome("succeeded", session, seti)
    if seti.status == "succeeded":
        return _settle(ctx, session, seti, buyer_of(ctx, seti.payment_method))
    if seti.status == "requires_action":
        return SetupOutcome("requires_action", session, seti)
    error = seti.last_setup_error or {}
    return SetupOutcome("declined", session, seti, page_message(error), dict(error))


def _session_setup_intent(ctx: Ctx, session: sessions.CheckoutSession) -> setups.SetupIntent:
    assert session.setup_intent is not None, "a setup session is made with its SetupIntent"
    return load(ctx, setups.SetupIntent, session.setup_intent, "setup_intent")


def _customer_for(ctx: Ctx, session: sessions.CheckoutSession, seti: setups.SetupIntent,
                  buyer: Buyer) -> None:
    """``customer_creation=always``: the Customer the card is saved to, from what the
    customer entered."""
    if session.customer is not None or session.customer_creation != "always":
        return
    customer = create_customer(ctx, CustomerCreate(CustomerFields(
        email=buyer.email or session.customer_email or UNSET, name=buyer.name or UNSET)))
    sessions.attach_customer(ctx, session, customer.id)
    setups.set_customer(ctx, seti, customer.id)


def _settle(ctx: Ctx, session: sessions.CheckoutSession, seti: setups.SetupIntent,
            buyer: Buyer) -> SetupOutcome:
    if seti.status == "requires_action":
        return SetupOutcome("requires_action", session, seti)
    customer = find(ctx, Customer, session.customer) if session.customer else None
    details = {"email": buyer.email or session.customer_email or (customer and customer.email),
               "name": buyer.name}
    completed = sessions.mark_session_complete(ctx, session, None, details)
    return SetupOutcome("succeeded", completed, seti)
