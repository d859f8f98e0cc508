"""Expiring a Checkout Session (https://docs.stripe.com/api/checkout/sessions/expire):
on demand or when its ``expires_at`` comes, and the PaymentIntent it started (or the
SetupIntent of a ``setup`` session) is canceled as abandoned, so the step sits above
these objects."""

from __future__ import annotations

from collections.abc import Callable

from simulator.sandbox import jobs
from simulator.sandbox.errors import InvalidRequestError
from simulator.sandbox.resources import payment_intent as intents
from simulator.sandbox.resources import setup_intent as setups
from simulator.sandbox.resources.base import Ctx, find, load, save
from simulator.sandbox.resources.checkout_session import EXPIRE_JOB, CheckoutSession
from simulator.sandbox.resources.common import Cancellation


def expire_checkout_session(ctx: Ctx, session_id: str) -> CheckoutSession:
    """``POST /v1/checkout/sessions/{id}/expire``: only open sessions can be expired
    (https://docs.stripe.com/api/checkout/sessions/expire)."""
    session = load(ctx, CheckoutSession, session_id)
    if session.status != "open":
        raise InvalidRequestError(
            'Only Checkout Sessions with a status in ["open"] can be expired. This Checkout'
            f" Session has a status of `{session.status}`.",
        )
    _expire(ctx, session)
    return session


def expire_when_due(ctx: Ctx, session_id: str) -> None:
    """The scheduled expiry at ``expires_at``; a session paid or expired meanwhile stays."""
    session = find(ctx, CheckoutSession, session_id)
    if session is not None and session.status == "open" and ctx.now >= session.expires_at:
        _expire(ctx, session)


def _expire(ctx: Ctx, session: CheckoutSession) -> None:
    session.status = "expired"
    jobs.cancel(ctx, EXPIRE_JOB, session.id)
    for intent_id, cancel in ((session.payment_intent, intents.cancel_payment_intent),
                              (session.setup_intent, setups.cancel_setup_intent)):
        if intent_id is not None:
            _abandon(ctx, intent_id, cancel)
    save(ctx, session)
    ctx.emit("checkout.session.expired", session)


def _abandon(ctx: Ctx, intent_id: str,
             cancel: Callable[[Ctx, str, Cancellation], object]) -> None:
    """An expired session's PaymentIntent or SetupIntent can no longer be paid or
    confirmed: cancel it as abandoned. One that already left the cancelable states (it
    succeeded meanwhile) is left alone."""
    try:
        cancel(ctx, intent_id, Cancellation("abandoned"))
    except InvalidRequestError:
        return
