"""``/v1/payment_pages``: the private API Stripe's own Checkout page calls, which the
Stripe CLI's ``trigger checkout.session.completed`` fixture uses to pay a session."""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from simulator.sandbox.api.endpoint import stripe_endpoint
from simulator.sandbox.errors import CardError
from simulator.sandbox.hosted.checkout_flow import Buyer, PaymentOutcome, pay_with_payment_method
from simulator.sandbox.hosted.setup_flow import SetupOutcome, save_card
from simulator.sandbox.params import Params
from simulator.sandbox.resources import checkout_session as sessions
from simulator.sandbox.resources.base import Ctx, render
from simulator.sandbox.resources.payment_method import resolve_payment_method

bp = Blueprint("payment_pages", __name__)


@bp.get("/v1/payment_pages/<session_id>")
@stripe_endpoint
def retrieve_page(ctx: Ctx, params: Params, session_id: str) -> sessions.CheckoutSession:
    return sessions.retrieve_checkout_session(ctx, session_id)


@bp.post("/v1/payment_pages/<session_id>/confirm")
@stripe_endpoint
def confirm_page(ctx: Ctx, params: Params, session_id: str) -> dict[str, Any]:
    pm_id = params.required_string("payment_method")
    expected = params.integer("expected_amount")
    for ignored in ("expected_payment_method_type", "eid", "consent", "tax_id_collection"):
        params.raw(ignored)
    if sessions.retrieve_checkout_session(ctx, session_id).mode == "setup":
        payment = resolve_payment_method(ctx, pm_id, "payment_method")
        outcome: PaymentOutcome | SetupOutcome = save_card(ctx, session_id, payment, Buyer())
    else:
        outcome = pay_with_payment_method(ctx, session_id, pm_id, Buyer(), expected)
    if outcome.status == "declined":
        error = outcome.error
        raise CardError(outcome.message or "Your card was declined.", code=error.get("code"),
                        decline_code=error.get("decline_code"), param=error.get("param"))
    return render(ctx, outcome.session)
