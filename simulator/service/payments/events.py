"""Stripe's webhook events: which ones the service acts on, and what each one means.

Payments are learned from signed webhooks (https://docs.stripe.com/checkout/fulfillment);
Stripe promises neither a single delivery nor an order
(https://docs.stripe.com/webhooks#event-ordering), so every handler may meet its work
already done."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from simulator.service.domain.audit import STRIPE
from simulator.service.domain.payment_session import PaymentSession
from simulator.service.payments.context import PaymentContext, log
from simulator.service.payments.disputes import DISPUTE_EVENTS, record_dispute
from simulator.service.payments.outcomes import (
    expiry_code,
    mark_expired,
    mark_processing,
    record_failure,
    record_payment,
    record_refund,
)

EventHandler = Callable[[PaymentContext, Mapping[str, Any]], None]


def handle_event(ctx: PaymentContext, event: Mapping[str, Any]) -> None:
    """Dispatch a verified Stripe event. Raises when the work could not be done, so
    the webhook answers 5xx and Stripe delivers again."""
    handler = EVENT_HANDLERS.get(str(event.get("type")))
    if handler is None:
        return
    try:
        handler(ctx, event["data"]["object"])
    except Exception as error:
        ctx.alert("handler_failure", "warning",
                  f"{event.get('type')} {event.get('id')} failed: {error}",
                  subject_id=str(event.get("id")))
        raise


def _on_checkout_completed(ctx: PaymentContext, checkout: Mapping[str, Any]) -> None:
    session = _session_of(ctx, checkout)
    if session is None:
        return
    payment_intent = _object_id(checkout.get("payment_intent"))
    if checkout.get("payment_status") in ("paid", "no_payment_required"):
        record_payment(ctx, session, payment_intent)
    else:  # a delayed payment method: async_payment_succeeded/failed follows
        mark_processing(ctx, session, payment_intent)


def _on_async_payment_succeeded(ctx: PaymentContext, checkout: Mapping[str, Any]) -> None:
    session = _session_of(ctx, checkout)
    if session is not None:
        record_payment(ctx, session, _object_id(checkout.get("payment_intent")))


def _on_async_payment_failed(ctx: PaymentContext, checkout: Mapping[str, Any]) -> None:
    session = _session_of(ctx, checkout)
    payment_intent = _object_id(checkout.get("payment_intent"))
    if session is None or payment_intent is None:
        return
    details = ctx.gateway.payment_details(payment_intent)
    record_failure(ctx, session, payment_intent, details.failure_code, details.decline_code)


def _on_checkout_expired(ctx: PaymentContext, checkout: Mapping[str, Any]) -> None:
    session = _session_of(ctx, checkout)
    if session is not None:
        mark_expired(ctx, session, expiry_code(ctx, session), STRIPE)


def _on_payment_intent_succeeded(ctx: PaymentContext, intent: Mapping[str, Any]) -> None:
    """Usually after ``checkout.session.completed`` (then one read and out), but
    Stripe does not promise the order; either one records the payment."""
    session = _session_of(ctx, intent)
    if session is not None:
        record_payment(ctx, session, str(intent["id"]))


def _on_payment_intent_failed(ctx: PaymentContext, intent: Mapping[str, Any]) -> None:
    """The decline as Stripe knows it now, not as this event's snapshot has it: two
    declines delivered out of order would otherwise leave the older reason shown."""
    session = _session_of(ctx, intent)
    if session is None:
        return
    details = ctx.gateway.payment_details(str(intent["id"]))
    if details.status in ("succeeded", "processing"):
        return  # a later attempt on the same page overtook it; its own events say so
    error = intent.get("last_payment_error") or {}
    record_failure(ctx, session, str(intent["id"]), details.failure_code or error.get("code"),
                   details.decline_code or error.get("decline_code"))


def _on_charge_refunded(ctx: PaymentContext, charge: Mapping[str, Any]) -> None:
    """A refund made in Stripe's dashboard. If it overtook the payment's own events,
    the payment is recorded first (re-read from Stripe)."""
    payment_intent = _object_id(charge.get("payment_intent"))
    if payment_intent is None:
        return
    txn = ctx.repo.transaction_by_payment_intent(payment_intent)
    if txn is None:
        session = _session_of(ctx, charge)
        if session is None:
            return
        record_payment(ctx, session, payment_intent)
        txn = ctx.repo.transaction_by_payment_intent(payment_intent)
        if txn is None:
            raise RuntimeError(f"refund of {payment_intent} before its payment succeeded")
    record_refund(ctx, txn, int(charge.get("amount_refunded") or 0))


def _on_dispute(ctx: PaymentContext, dispute: Mapping[str, Any]) -> None:
    record_dispute(ctx, dispute)


EVENT_HANDLERS: dict[str, EventHandler] = {
    "checkout.session.completed": _on_checkout_completed,
    "checkout.session.async_payment_succeeded": _on_async_payment_succeeded,
    "checkout.session.async_payment_failed": _on_async_payment_failed,
    "checkout.session.expired": _on_checkout_expired,
    "payment_intent.succeeded": _on_payment_intent_succeeded,
    "payment_intent.payment_failed": _on_payment_intent_failed,
    "charge.refunded": _on_charge_refunded,
    **{event_type: _on_dispute for event_type in DISPUTE_EVENTS},
}
# What the service's webhook endpoint subscribes to: derived, so a new handler is also a
# new subscription and the two can never drift apart.
HANDLED_EVENTS: tuple[str, ...] = tuple(EVENT_HANDLERS)


def _session_of(ctx: PaymentContext, stripe_object: Mapping[str, Any]) -> PaymentSession | None:
    """Ours, by the Checkout Session's or PaymentIntent's id, else by the metadata we
    set on both. Anything else on the account is not ours: ignored."""
    found: PaymentSession | None = None
    kind, object_id = stripe_object.get("object"), str(stripe_object.get("id"))
    if kind == "checkout.session":
        found = ctx.repo.session_by_checkout_id(object_id)
    elif kind == "payment_intent":
        found = ctx.repo.session_by_payment_intent(object_id)
    elif kind == "charge" and (intent := _object_id(stripe_object.get("payment_intent"))):
        found = ctx.repo.session_by_payment_intent(intent)
    metadata = stripe_object.get("metadata") or {}
    if found is None and metadata.get("payment_session_id"):
        found = ctx.repo.get_payment_session(str(metadata["payment_session_id"]))
    if found is None:
        log.info("Stripe %s %s is not one of ours; ignored", kind, object_id)
    return found


def _object_id(value: Any) -> str | None:
    """An expandable field of a Stripe object: an id, an expanded object, or null."""
    if isinstance(value, Mapping):
        return str(value["id"])
    return value if isinstance(value, str) else None
