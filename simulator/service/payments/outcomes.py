"""Recording what Stripe says happened: payments, failures, processing, expiry and
refunds. Each change re-reads state inside its transaction and exits early when the work
is done, so duplicate, concurrent and reordered deliveries converge
(https://docs.stripe.com/webhooks#handle-duplicate-events)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from simulator.service.domain.audit import STRIPE
from simulator.service.domain.notification import receipt_mail, receipt_text
from simulator.service.domain.order import Order
from simulator.service.domain.payment_session import LIVE, PaymentSession
from simulator.service.domain.retry import buyer_message, reminder_schedule
from simulator.service.domain.stores import Conflict
from simulator.service.domain.transaction import Transaction
from simulator.service.payments.context import STRIPE_OPEN, PaymentContext, log
from simulator.service.payments.fraud_screening import review_codes, screen_payment
from simulator.service.payments.texts import queue_text, text_records
from simulator.service.scheduler import (
    CHECK_FAILURE_RATE,
    EXPIRE_CHECKOUT,
    ISSUE_RECEIPT,
    SEND_MAIL,
    SEND_REMINDER,
)

if TYPE_CHECKING:
    from simulator.service.adapters.stripe_gateway import CheckoutSessionInfo, PaymentDetails
    from simulator.service.domain.auction import AuctionWin


def apply_checkout_state(ctx: PaymentContext, session: PaymentSession,
                         info: CheckoutSessionInfo, actor: str) -> None:
    """Bring our session in line with what Stripe says about its Checkout Session."""
    if info.status == "complete":
        if info.payment_status in ("paid", "no_payment_required"):
            record_payment(ctx, session, info.payment_intent_id)
        else:
            mark_processing(ctx, session, info.payment_intent_id)
    elif info.status == "expired":
        mark_expired(ctx, session, expiry_code(ctx, session), actor)


# == payments ==============================================================================
def record_payment(ctx: PaymentContext, session: PaymentSession,
                   payment_intent_id: str | None) -> None:
    """Exactly one Transaction and one Order per paid win, whatever arrives twice."""
    if payment_intent_id is None:
        raise ValueError(f"{session.id}: paid without a PaymentIntent")
    if ctx.repo.transaction_by_payment_intent(payment_intent_id) is not None:
        return  # the common duplicate: one indexed read
    details = ctx.gateway.payment_details(payment_intent_id)
    if details.status == "processing":
        mark_processing(ctx, session, payment_intent_id)
        return
    if details.status != "succeeded":
        raise RuntimeError(f"{payment_intent_id} is {details.status}, not succeeded")
    jobs = _commit_payment(ctx, session.id, details)
    ctx.crash_point("payment_committed")
    ctx.scheduler.run_now(jobs)


def _commit_payment(ctx: PaymentContext, session_id: str,
                    details: PaymentDetails) -> list[int | None]:
    """One transaction: the Transaction, the session's and order's new states, their
    audit entries, the receipt mail and the jobs that follow. Returns those jobs."""
    with ctx.repo.transaction():
        if ctx.repo.transaction_by_payment_intent(details.payment_intent_id):
            return []  # a concurrent delivery recorded it first
        session = ctx.session(session_id)
        win = ctx.win(session.win_id)
        txn = _new_transaction(ctx, session, win, details)
        ctx.repo.add_transaction(txn)
        ctx.audit(STRIPE, "transaction.recorded", "transaction", txn.id, None,
                  txn.snapshot())
        _mark_succeeded(ctx, session, details.payment_intent_id)
        order = _order_paid(ctx, win, txn)
        ctx.repo.cancel_jobs(SEND_REMINDER, f"{win.id}:")
        return _after_payment(ctx, win, session, txn, order)


def _new_transaction(ctx: PaymentContext, session: PaymentSession, win: AuctionWin,
                     details: PaymentDetails) -> Transaction:
    fee = details.fee or 0
    txn = Transaction(
        id=ctx.ids.new("txn"), payment_session_id=session.id, win_id=win.id,
        amount=details.amount, fee=fee,
        net=details.net if details.net is not None else details.amount - fee,
        currency=details.currency, status="succeeded", card_brand=details.card_brand,
        card_last4=details.card_last4, card_country=details.card_country,
        three_d_secure_result=details.three_d_secure_result,
        risk_level=details.risk_level, risk_score=details.risk_score,
        charge_id=details.charge_id, payment_intent_id=details.payment_intent_id,
        created_at=ctx.clock.timestamp(),
    )
    return _flag_for_review(ctx, txn, win, details.card_fingerprint)


def _flag_for_review(ctx: PaymentContext, txn: Transaction, win: AuctionWin,
                     card_fingerprint: str | None) -> Transaction:
    """The fraud rules' verdict on the paid charge: the payment is recorded whatever it
    says; review or block holds the order (``fraud_screening``)."""
    codes = review_codes(screen_payment(ctx, txn, win, card_fingerprint))
    if txn.amount != win.amount or txn.currency != win.currency:
        codes += ("amount_mismatch",)
        ctx.alert("review_needed", "warning", f"Payment {txn.id} for lot {win.lot} needs"
                  " review: amount differs from the win", subject_id=txn.id, quiet=0)
    return txn.flagged(codes)


def _mark_succeeded(ctx: PaymentContext, session: PaymentSession,
                    payment_intent_id: str) -> None:
    if session.status == "succeeded":
        return
    if session.status in ("expired", "canceled"):
        ctx.alert("late_payment", "warning",
                  f"Stripe took a payment for {session.id} after it was {session.status}"
                  " here; it is recorded.", subject_id=session.id, quiet=0)
    paid = session.transition("succeeded", ctx.clock.timestamp(),
                              payment_intent_id=payment_intent_id, failure_code=None,
                              failure_reason=None)
    ctx.repo.save_payment_session(paid)
    ctx.audit(STRIPE, "payment_session.succeeded", "payment_session", paid.id,
              session.snapshot(), paid.snapshot())


def _order_paid(ctx: PaymentContext, win: AuctionWin, txn: Transaction) -> Order:
    """Create the order, or turn a canceled one paid; a second payment for a paid
    win is recorded, flagged and alerted (someone must refund it), never ordered."""
    now = ctx.clock.timestamp()
    order = ctx.repo.order_for_win(win.id)
    if order is None:
        created = Order(id=ctx.ids.new("ord"), win_id=win.id, buyer_id=win.buyer_id,
                        status="paid", created_at=now, updated_at=now,
                        transaction_id=txn.id)
        ctx.repo.add_order(created)
        ctx.audit(STRIPE, "order.created", "order", created.id, None, created.snapshot())
        return created
    if order.status in ("canceled", "created"):
        paid = order.transition("paid", now, transaction_id=txn.id)
        ctx.repo.save_order(paid)
        ctx.audit(STRIPE, "order.paid", "order", paid.id, order.snapshot(),
                  paid.snapshot())
        return paid
    _flag_duplicate(ctx, txn, order)
    return order


def _flag_duplicate(ctx: PaymentContext, txn: Transaction, order: Order) -> None:
    flagged = txn.flagged(("duplicate_payment",))
    ctx.repo.save_transaction(flagged)
    ctx.audit(STRIPE, "transaction.flagged", "transaction", txn.id, txn.snapshot(),
              flagged.snapshot())
    ctx.alert("duplicate_payment", "critical",
              f"Win {order.win_id} was paid twice: {txn.payment_intent_id} came after"
              f" order {order.id} was paid. Refund it in Stripe.", subject_id=txn.id,
              quiet=0)


def _after_payment(ctx: PaymentContext, win: AuctionWin, session: PaymentSession,
                   txn: Transaction, order: Order) -> list[int | None]:
    """Jobs for after the commit: the receipt, its mail, and closing any other
    Checkout Session of the win that Stripe might still take money on."""
    now = ctx.clock.now()
    jobs = [ctx.scheduler.schedule(ISSUE_RECEIPT, order.id, now)]
    buyer = ctx.repo.get_user(win.buyer_id)
    if buyer is not None and order.transaction_id == txn.id:
        mail = receipt_mail(buyer, win, txn, order.id, ctx.config.merchant_name)
        mail_id = ctx.repo.queue_mail(mail, int(now))
        if mail_id is not None:
            jobs.append(ctx.scheduler.schedule(SEND_MAIL, str(mail_id), now))
        if phone := text_records(ctx).phone_of(buyer.id):
            jobs.append(queue_text(ctx, receipt_text(phone, win, txn, order.id,
                                                     ctx.config.merchant_name), now))
    for other in ctx.repo.sessions_for_win(win.id):
        if other.id != session.id and other.reached_stripe and other.status in STRIPE_OPEN:
            jobs.append(ctx.scheduler.schedule(EXPIRE_CHECKOUT, other.id, now))
    return jobs


# == failures, processing, expiry ==========================================================
def record_failure(ctx: PaymentContext, session: PaymentSession,
                   payment_intent_id: str | None, failure_code: str | None,
                   decline_code: str | None) -> None:
    """A declined or unauthenticated payment: the reason in the buyer's words, and
    reminders scheduled (replacing those of an earlier failure).

    A decline delivered after the session's expiry happened before it (nobody can pay
    on an expired page), so it ends as it would have in order: failed, with its reason."""
    code = decline_code or failure_code or "card_declined"
    with ctx.repo.transaction():
        current = ctx.session(session.id)
        if current.status not in (*STRIPE_OPEN, "expired") or (
                current.status == "failed" and current.failure_code == code):
            return
        changes = {"payment_intent_id": payment_intent_id or current.payment_intent_id,
                   "failure_code": code,
                   "failure_reason": buyer_message(failure_code, decline_code)}
        now = ctx.clock.timestamp()
        failed = (current.updated(now, **changes) if current.status == "failed"
                  else current.transition("failed", now, **changes))
        ctx.repo.save_payment_session(failed)
        ctx.audit(STRIPE, "payment_session.failed", "payment_session", failed.id,
                  current.snapshot(), failed.snapshot())
        ctx.repo.schedule_job_now(CHECK_FAILURE_RATE, "latest", now, now)  # alert rule
        if current.status in LIVE:
            _schedule_reminders(ctx, failed, now)


def _schedule_reminders(ctx: PaymentContext, session: PaymentSession, failed_at: int) -> None:
    ctx.repo.cancel_jobs(SEND_REMINDER, f"{session.win_id}:")
    times = reminder_schedule(failed_at, session.window_ends_at, paid=False,
                              jitter_seconds=ctx.config.reminder_jitter_seconds,
                              rng_seed=session.id, hours=ctx.config.reminder_hours)
    for number, at in enumerate(times, 1):
        # Replaces a reminder of the same number canceled just above (a failure recorded
        # again after a delayed payment), which a plain schedule would leave canceled.
        ctx.repo.replace_job(SEND_REMINDER, f"{session.win_id}:{session.id}:{number}", at,
                             ctx.clock.timestamp())


def mark_processing(ctx: PaymentContext, session: PaymentSession,
                    payment_intent_id: str | None) -> None:
    if ctx.session(session.id).status == "failed" and not _still_processing(
            ctx, payment_intent_id):
        return  # an old "completed, unpaid" arriving after the payment's failure
    with ctx.repo.transaction():
        current = ctx.session(session.id)
        if current.status not in ("open", "failed"):
            return
        processing = current.transition("processing", ctx.clock.timestamp(),
                                        payment_intent_id=payment_intent_id)
        try:
            ctx.repo.save_payment_session(processing)
        except Conflict:
            log.warning("%s is processing while another attempt is open", session.id)
            return
        ctx.audit(STRIPE, "payment_session.processing", "payment_session",
                  processing.id, current.snapshot(), processing.snapshot())


def _still_processing(ctx: PaymentContext, payment_intent_id: str | None) -> bool:
    """Whether Stripe says the payment is still being confirmed: a failed session goes
    back to ``processing`` only then (Stripe does not promise the events' order, and a
    failed delayed payment's Checkout Session stays complete and unpaid for good)."""
    if payment_intent_id is None:
        return False
    return ctx.gateway.payment_details(payment_intent_id).status == "processing"


def mark_expired(ctx: PaymentContext, session: PaymentSession, code: str, actor: str) -> None:
    with ctx.repo.transaction():
        mark_expired_in_tx(ctx, ctx.session(session.id), code, actor)


def mark_expired_in_tx(ctx: PaymentContext, current: PaymentSession, code: str,
                       actor: str) -> None:
    """Only a live session expires; a failed one keeps its reason."""
    if current.status not in LIVE:
        return
    expired = current.transition("expired", ctx.clock.timestamp(), failure_code=code,
                                 failure_reason=buyer_message(code))
    ctx.repo.save_payment_session(expired)
    ctx.audit(actor, "payment_session.expired", "payment_session", expired.id,
              current.snapshot(), expired.snapshot())


def expiry_code(ctx: PaymentContext, session: PaymentSession) -> str:
    late = ctx.clock.now() >= session.window_ends_at
    return "window_closed" if late else "session_expired"


# == refunds ===============================================================================
def record_refund(ctx: PaymentContext, txn: Transaction, amount_refunded: int) -> None:
    with ctx.repo.transaction():
        current = ctx.repo.get_transaction(txn.id) or txn
        if amount_refunded <= current.amount_refunded:
            return
        refunded = current.refunded(amount_refunded)
        ctx.repo.save_transaction(refunded)
        ctx.audit(STRIPE, "transaction.refunded", "transaction", txn.id,
                  current.snapshot(), refunded.snapshot())
        order = ctx.repo.order_for_win(txn.win_id)
        if refunded.status == "refunded" and order is not None \
                and order.transaction_id == txn.id and order.status == "paid":
            closed = order.transition("refunded", ctx.clock.timestamp())
            ctx.repo.save_order(closed)
            ctx.audit(STRIPE, "order.refunded", "order", order.id, order.snapshot(),
                      closed.snapshot())
