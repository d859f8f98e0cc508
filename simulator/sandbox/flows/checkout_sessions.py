"""Creating a Checkout Session (https://docs.stripe.com/api/checkout/sessions/create): a
``setup`` session is made with its SetupIntent, which the hosted page confirms with the
card the customer enters (https://docs.stripe.com/payments/save-and-reuse?platform=checkout)."""

from __future__ import annotations

from simulator.sandbox.resources import checkout_session as sessions
from simulator.sandbox.resources import setup_intent as setups
from simulator.sandbox.resources.base import Ctx
from simulator.sandbox.resources.checkout_session_requests import CheckoutSessionCreate


def create_checkout_session(ctx: Ctx, request: CheckoutSessionCreate
                            ) -> sessions.CheckoutSession:
    session = sessions.create_checkout_session(ctx, request)
    if session.mode == "setup":
        card_options = session.payment_method_options.get("card") or {}
        seti = setups.create_checkout_setup_intent(
            ctx, session.customer, session.setup_intent_data,
            card_options.get("request_three_d_secure"))
        sessions.attach_setup_intent(ctx, session, seti.id)
    return session
