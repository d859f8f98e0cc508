"""The buyer's way to Stripe Checkout: starting a payment, retrying it, and coming back.

An attempt's row and idempotency key are written before Stripe is called, so a double
click, a concurrent request or a retry after a failed create is the same Checkout
Session (https://docs.stripe.com/api/idempotent_requests)."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from simulator.service.adapters.errors import PaymentsUnavailable, StripeRejected
from simulator.service.domain.audit import STRIPE, user_actor
from simulator.service.domain.fraud import CheckoutSignals
from simulator.service.domain.payment_session import LIVE, PaymentSession
from simulator.service.domain.retry import Refused, refused
from simulator.service.payments.context import STRIPE_OPEN, PaymentContext, log
from simulator.service.payments.errors import PaymentRefused
from simulator.service.payments.fraud_screening import record_checkout_signals, screen_checkout
from simulator.service.payments.outcomes import apply_checkout_state, mark_expired_in_tx
from simulator.service.payments.views import PaymentStatusView, view, visible_session
from simulator.service.scheduler import CHECK_STRIPE_EXPIRY, EXPIRE_CHECKOUT

if TYPE_CHECKING:
    from simulator.service.adapters.stripe_gateway import CheckoutSessionInfo
    from simulator.service.domain.auction import AuctionWin

# Where Stripe sends the buyer back (the web layer's routes). ``{CHECKOUT_SESSION_ID}``
# is filled in by Stripe (https://docs.stripe.com/payments/checkout/custom-success-page).
SUCCESS_PATH = "/payments/return?session_id={CHECKOUT_SESSION_ID}"
CANCEL_PATH = "/payments/cancel?payment_session_id={payment_session_id}"

EXPIRY_GRACE_SECONDS = 60  # Stripe's own expiry job runs shortly after expires_at
UNAVAILABLE = "Payments are temporarily unavailable, please try again in a minute"
CHECKOUT_FAILED = "We could not start the payment. Please try again later."


@dataclass(frozen=True)
class CheckoutStarted:
    payment_session: PaymentSession
    created: bool


# == the buyer's requests ==================================================================
def start_checkout(ctx: PaymentContext, buyer_id: str, auction_id: str,
                   signals: CheckoutSignals | None = None) -> CheckoutStarted:
    """The buyer's Checkout Session for the win. A usable open one is returned as it
    is (a double click is the same session); otherwise a new attempt, if allowed."""
    win = ctx.repo.get_win(auction_id)
    if win is None:
        raise PaymentRefused("not_found", 404, f"No such auction: {auction_id}")
    if win.buyer_id != buyer_id:
        raise PaymentRefused("not_winner", 403, "Only the winning bidder can pay for this lot.")
    return checkout(ctx, win, user_actor(buyer_id), signals)


def retry(ctx: PaymentContext, buyer_id: str, payment_session_id: str,
          signals: CheckoutSignals | None = None) -> CheckoutStarted:
    session = ctx.repo.get_payment_session(payment_session_id)
    if session is None:
        raise PaymentRefused("not_found", 404, f"No such payment: {payment_session_id}")
    if session.buyer_id != buyer_id:
        raise PaymentRefused("not_winner", 403, "Only the winning bidder can pay for this lot.")
    return checkout(ctx, ctx.win(session.win_id), user_actor(buyer_id), signals)


def confirm_return(ctx: PaymentContext, checkout_session_id: str,
                   viewer_id: str | None = None) -> PaymentStatusView:
    """Back from Checkout: the redirect proves nothing, so ask Stripe. If Stripe
    cannot be asked now, the webhook will tell."""
    session = ctx.repo.session_by_checkout_id(checkout_session_id)
    if session is None:
        raise PaymentRefused("not_found", 404, "No payment for this Checkout Session.")
    if viewer_id is not None:
        visible_session(ctx, viewer_id, session.id)
    try:
        info = ctx.gateway.retrieve_checkout_session(checkout_session_id)
    except (PaymentsUnavailable, StripeRejected) as error:
        log.warning("return from %s: Stripe not asked (%s)", checkout_session_id, error)
    else:
        apply_checkout_state(ctx, session, info, STRIPE)
    return view(ctx, ctx.session(session.id))


# == starting a checkout ===================================================================
def checkout(ctx: PaymentContext, win: AuctionWin, actor: str,
             signals: CheckoutSignals | None = None) -> CheckoutStarted:
    """``signals`` (the buyer's address and device) come with a buyer's request; the
    fraud rules that need no payment run before a new attempt (a block refuses it)."""
    sessions = ctx.repo.sessions_for_win(win.id)
    usable = next((s for s in sessions if s.is_usable(ctx.clock.now())), None)
    if usable is not None:
        return CheckoutStarted(usable, created=False)
    signals = signals or CheckoutSignals()
    screen_checkout(ctx, win, signals, actor)
    _close_previous_at_stripe(ctx, win, sessions, actor)
    session, created = _claim_attempt(ctx, win, actor, signals)
    if not session.reached_stripe:
        session = _create_at_stripe(ctx, win, session, actor)
    return CheckoutStarted(session, created)


def _close_previous_at_stripe(ctx: PaymentContext, win: AuctionWin,
                              sessions: Sequence[PaymentSession], actor: str) -> None:
    """Before a new attempt, make sure the last one can no longer be paid: a declined
    card leaves its Checkout Session open (the buyer may try another card there), and
    two open sessions for one lot could take the money twice."""
    previous = [s for s in sessions if s.reached_stripe]
    if not previous or previous[-1].status not in STRIPE_OPEN:
        return
    if not ctx.window(win).is_open(ctx.clock.now()):
        return
    info = _stripe(ctx, lambda: ctx.gateway.expire_checkout_session(
        str(previous[-1].checkout_session_id)))
    apply_checkout_state(ctx, previous[-1], info, actor)


def _claim_attempt(ctx: PaymentContext, win: AuctionWin, actor: str,
                   signals: CheckoutSignals) -> tuple[PaymentSession, bool]:
    """Decide and insert the attempt's row, with its idempotency key, before Stripe is
    called. Serialized per win by ``BEGIN IMMEDIATE`` and the live-session index."""
    now = ctx.clock.now()
    with ctx.repo.transaction():
        sessions = ctx.repo.sessions_for_win(win.id)
        live = next((s for s in sessions if s.status in LIVE), None)
        if live is not None and live.is_usable(now):
            return live, False
        decision = ctx.policy.decide(win, sessions, now)
        if isinstance(decision, Refused):
            raise PaymentRefused.of(decision)
        if live is not None and not live.reached_stripe:
            return live, False  # a create that failed half-way: resume it, same key
        if live is not None:
            mark_expired_in_tx(ctx, live, "session_expired", actor)
        session = _new_session(ctx, win, decision.attempt, now)
        ctx.repo.add_payment_session(session)
        record_checkout_signals(ctx, session.id, win, signals)
        ctx.audit(actor, "payment_session.created", "payment_session", session.id,
                  None, session.snapshot())
        return session, True


def _new_session(ctx: PaymentContext, win: AuctionWin, attempt: int,
                 now: float) -> PaymentSession:
    window = ctx.window(win)
    return PaymentSession(
        id=ctx.ids.new("ps"), win_id=win.id, buyer_id=win.buyer_id, attempt=attempt,
        status="open", idempotency_key=f"ps-{secrets.token_urlsafe(24)}",
        expires_at=window.checkout_expires_at(now), window_ends_at=window.closes_at,
        created_at=int(now), updated_at=int(now),
    )


def _create_at_stripe(ctx: PaymentContext, win: AuctionWin, session: PaymentSession,
                      actor: str) -> PaymentSession:
    """The Stripe call, outside any database transaction. Every parameter comes
    from the stored row, so a retry with the same key is the same request
    (Stripe refuses a key reused with other parameters)."""
    buyer = ctx.repo.get_user(win.buyer_id)
    try:
        info = ctx.gateway.create_checkout_session(
            idempotency_key=session.idempotency_key, amount=win.amount,
            currency=win.currency, description=win.description,
            customer_email=buyer.email if buyer else None,
            success_url=ctx.config.public_url + SUCCESS_PATH,
            cancel_url=ctx.config.public_url + CANCEL_PATH.format(
                payment_session_id=session.id),
            expires_at=session.expires_at, metadata=_metadata(session),
            request_three_d_secure=ctx.three_d_secure.requests_3ds(win.amount,
                                                                   win.currency))
    except PaymentsUnavailable as error:
        raise _unavailable(ctx, error) from error
    except StripeRejected as error:
        _cancel_unsent(ctx, session, error, actor)
        raise PaymentRefused("checkout_failed", 502, CHECKOUT_FAILED) from error
    return _attach_checkout(ctx, session, info, actor)


def _metadata(session: PaymentSession) -> dict[str, str]:
    """Copied onto the PaymentIntent too, so ``payment_intent.*`` events are ours to
    match (https://docs.stripe.com/metadata)."""
    return {"payment_session_id": session.id, "win_id": session.win_id,
            "buyer_id": session.buyer_id, "attempt": str(session.attempt)}


def _attach_checkout(ctx: PaymentContext, session: PaymentSession, info: CheckoutSessionInfo,
                     actor: str) -> PaymentSession:
    with ctx.repo.transaction():
        current = ctx.session(session.id)
        if current.reached_stripe:
            return current  # a concurrent request with the same key attached it
        updated = current.updated(ctx.clock.timestamp(), checkout_session_id=info.id,
                                  checkout_url=info.url, expires_at=info.expires_at)
        ctx.repo.save_payment_session(updated)
        ctx.audit(actor, "payment_session.checkout_created", "payment_session",
                  updated.id, current.snapshot(), updated.snapshot())
        ctx.scheduler.schedule(CHECK_STRIPE_EXPIRY, updated.id,
                               info.expires_at + EXPIRY_GRACE_SECONDS)
    if updated.status != "open":  # the window closed while Stripe was being called
        with ctx.repo.transaction():
            job = ctx.scheduler.schedule(EXPIRE_CHECKOUT, updated.id, ctx.clock.now())
        ctx.scheduler.run_now([job])
        raise PaymentRefused.of(refused("window_closed"))
    return updated


def _cancel_unsent(ctx: PaymentContext, session: PaymentSession, error: StripeRejected,
                   actor: str) -> None:
    """Stripe refused the create: that key would be refused again, so the attempt is
    canceled (it never reached the buyer and does not count against the retries)."""
    log.error("Stripe refused the Checkout Session for %s: %s", session.id, error)
    with ctx.repo.transaction():
        current = ctx.session(session.id)
        if current.reached_stripe or not current.can_become("canceled"):
            return
        canceled = current.transition("canceled", ctx.clock.timestamp(),
                                      failure_code="stripe_rejected",
                                      failure_reason=CHECKOUT_FAILED)
        ctx.repo.save_payment_session(canceled)
        ctx.audit(actor, "payment_session.canceled", "payment_session", canceled.id,
                  current.snapshot(), canceled.snapshot())


def _unavailable(ctx: PaymentContext, error: PaymentsUnavailable) -> PaymentRefused:
    if error.reason == "circuit_open":
        ctx.alert("circuit_open", "critical",
                  "Stripe is failing: the circuit breaker is open and payments are"
                  " refused with 503.", subject_id="stripe")
    return PaymentRefused("payments_unavailable", 503, UNAVAILABLE)


def _stripe(ctx: PaymentContext,
            call: Callable[[], CheckoutSessionInfo]) -> CheckoutSessionInfo:
    """A Stripe read on the buyer's path: unavailability becomes the buyer's 503."""
    try:
        return call()
    except PaymentsUnavailable as error:
        raise _unavailable(ctx, error) from error
