"""The bank's answer to a debit, when its job falls due on the sandbox clock: the charge
succeeds (captured, money in the balance) or fails with the bank's reason; the
PaymentIntent follows (``succeeded``, or back to ``requires_payment_method`` with
``last_payment_error``); a Checkout Session paid this way, complete but ``unpaid`` since
the customer confirmed, says so with ``checkout.session.async_payment_succeeded`` or
``_failed`` (https://docs.stripe.com/checkout/fulfillment#delayed-notification)."""

from __future__ import annotations

from simulator.sandbox import bank_accounts
from simulator.sandbox.resources import charge as charges
from simulator.sandbox.resources.base import Ctx, find, save
from simulator.sandbox.resources.checkout_session import CheckoutSession
from simulator.sandbox.resources.payment_intent import PaymentIntent
from simulator.sandbox.resources.payment_method import PaymentMethod


def settle_debit(ctx: Ctx, charge_id: str) -> None:
    charge = find(ctx, charges.Charge, charge_id)
    if charge is None or charge.status != "pending" or charge.payment_intent is None:
        return
    pi = find(ctx, PaymentIntent, charge.payment_intent)
    pm = find(ctx, PaymentMethod, charge.payment_method)
    if pi is None or pm is None:
        return
    outcome = bank_accounts.outcome_for(str(pm.type), pm.bank or {})
    if outcome.succeeds:
        _succeed(ctx, charge, pi)
    else:
        _fail(ctx, charge, pi, pm, outcome)
    session = _checkout_session(ctx, pi.id)
    if session is not None and session.status == "complete":
        if outcome.succeeds:
            session.payment_status = "paid"
        save(ctx, session)
        ctx.emit("checkout.session.async_payment_succeeded" if outcome.succeeds
                 else "checkout.session.async_payment_failed", session)


def _succeed(ctx: Ctx, charge: charges.Charge, pi: PaymentIntent) -> None:
    charges.capture(ctx, charge, charge.amount)
    charge.status = "succeeded"
    save(ctx, charge)
    pi.status, pi.amount_received = "succeeded", charge.amount
    save(ctx, pi)
    ctx.emit("charge.succeeded", charge)
    ctx.emit("payment_intent.succeeded", pi)


def _fail(ctx: Ctx, charge: charges.Charge, pi: PaymentIntent, pm: PaymentMethod,
          outcome: bank_accounts.DebitOutcome) -> None:
    charge.status = "failed"
    charge.failure_code, charge.failure_message = outcome.failure_code, outcome.failure_message
    charge.outcome = {**charge.outcome, "network_status": "declined_by_network",
                      "type": "issuer_declined", "seller_message": outcome.failure_message}
    save(ctx, charge)
    pi.status, pi.payment_method = "requires_payment_method", None
    pi.last_payment_error = {
        "code": outcome.failure_code, "message": outcome.failure_message,
        "payment_method": pm.serialize(ctx), "type": "invalid_request_error",
        "charge": charge.id}
    save(ctx, pi)
    ctx.emit("charge.failed", charge)
    ctx.emit("payment_intent.payment_failed", pi)


def _checkout_session(ctx: Ctx, payment_intent_id: str) -> CheckoutSession | None:
    page = ctx.store.page(CheckoutSession.OBJECT, limit=1,
                          filters={"payment_intent": payment_intent_id})
    return CheckoutSession.from_state(page.rows[0].data) if page.rows else None
