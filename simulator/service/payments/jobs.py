"""The timed rules of a payment, each a durable job evaluated against the clock: the
window's end, Stripe's expiry, reminders, and the mail and receipts that follow a change
(written in the change's transaction, produced after its commit)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from functools import partial

from simulator.common.clock import Clock
from simulator.service.adapters.errors import (
    MailNotSent,
    PaymentsUnavailable,
    ReceiptExists,
    ReceiptTampered,
    StripeRejected,
)
from simulator.service.domain.alerts import Alert
from simulator.service.domain.auction import AuctionWin
from simulator.service.domain.audit import SCHEDULER, SYSTEM
from simulator.service.domain.jobs import Job
from simulator.service.domain.notification import (
    reminder_mail,
    reminder_text,
    window_closed_mail,
)
from simulator.service.domain.order import Order
from simulator.service.domain.payment_session import LIVE, PaymentSession, Status
from simulator.service.domain.retry import buyer_message
from simulator.service.domain.stores import IncidentStore
from simulator.service.payments.alerting import check_failure_rate, deliver_alert
from simulator.service.payments.checkout import checkout
from simulator.service.payments.context import (
    ALERT_QUIET_SECONDS,
    STRIPE_OPEN,
    PaymentContext,
    log,
)
from simulator.service.payments.errors import PaymentRefused
from simulator.service.payments.outcomes import apply_checkout_state
from simulator.service.payments.texts import SEND_SMS, queue_text, send_text, text_records
from simulator.service.scheduler import (
    CHECK_FAILURE_RATE,
    CHECK_STRIPE_EXPIRY,
    CLOSE_WINDOW,
    DELIVER_ALERT,
    EXPIRE_CHECKOUT,
    ISSUE_RECEIPT,
    RECONCILE_PAYMENTS,
    SEND_MAIL,
    SEND_REMINDER,
)

EXPIRY_RECHECK_SECONDS = 300
PROCESSING_RECHECK_SECONDS = 900
# A reminder meets one of these when the buyer no longer needs reminding.
REMINDER_MOOT = frozenset({"already_paid", "window_closed", "retries_exhausted",
                           "payment_processing"})

JobRule = Callable[[PaymentContext, Job], float | None]


def register_jobs(ctx: PaymentContext) -> None:
    for kind, handler in JOB_RULES.items():
        ctx.scheduler.register(kind, partial(handler, ctx))


# == the window's end ======================================================================
def close_window(ctx: PaymentContext, job: Job) -> float | None:
    """The window's end: expire what Stripe still has open (learning of any payment
    made in time whose webhook is late), then cancel the order if nothing was paid."""
    win = ctx.repo.get_win(job.ref)
    if win is None or ctx.repo.order_for_win(win.id) is not None:
        return None
    for session in ctx.repo.sessions_for_win(win.id):
        if session.reached_stripe and session.status in STRIPE_OPEN:
            info = ctx.gateway.expire_checkout_session(str(session.checkout_session_id))
            apply_checkout_state(ctx, session, info, SCHEDULER)
    sessions = ctx.repo.sessions_for_win(win.id)
    if any(s.status == "succeeded" for s in sessions):
        return None
    if any(s.status == "processing" for s in sessions):
        return ctx.clock.now() + PROCESSING_RECHECK_SECONDS  # the money is in flight
    ctx.scheduler.run_now(cancel_order(ctx, win))
    return None


def cancel_order(ctx: PaymentContext, win: AuctionWin) -> list[int | None]:
    """The unpaid end of a win: live sessions closed, a canceled Order row, the
    buyer told."""
    now = ctx.clock.timestamp()
    with ctx.repo.transaction():
        if ctx.repo.order_for_win(win.id) is not None:
            return []
        for session in ctx.repo.sessions_for_win(win.id):
            _close_at_window_end(ctx, session)
        order = Order(id=ctx.ids.new("ord"), win_id=win.id, buyer_id=win.buyer_id,
                      status="canceled", created_at=now, updated_at=now)
        ctx.repo.add_order(order)
        ctx.audit(SCHEDULER, "order.canceled", "order", order.id, None, order.snapshot())
        ctx.repo.cancel_jobs(SEND_REMINDER, f"{win.id}:")
        buyer = ctx.repo.get_user(win.buyer_id)
        if buyer is None:
            return []
        mail_id = ctx.repo.queue_mail(
            window_closed_mail(buyer, win, ctx.config.merchant_name), now)
        return [ctx.scheduler.schedule(SEND_MAIL, str(mail_id), now)] if mail_id else []


def _close_at_window_end(ctx: PaymentContext, session: PaymentSession) -> None:
    if session.status not in LIVE:
        return
    status: Status = "expired" if session.reached_stripe else "canceled"
    closed = session.transition(status, ctx.clock.timestamp(),
                                failure_code="window_closed",
                                failure_reason=buyer_message("window_closed"))
    ctx.repo.save_payment_session(closed)
    ctx.audit(SCHEDULER, f"payment_session.{status}", "payment_session", closed.id,
              session.snapshot(), closed.snapshot())


# == Stripe's side of a Checkout Session ===================================================
def check_stripe_expiry(ctx: PaymentContext, job: Job) -> float | None:
    """Shortly after ``expires_at``: if the ``checkout.session.expired`` (or
    completed) webhook never came, Stripe's own answer settles it."""
    session = ctx.repo.get_payment_session(job.ref)
    if session is None or not session.reached_stripe or session.status not in STRIPE_OPEN:
        return None
    info = ctx.gateway.retrieve_checkout_session(str(session.checkout_session_id))
    apply_checkout_state(ctx, session, info, SCHEDULER)
    if info.status == "open" and ctx.clock.now() < session.window_ends_at:
        return ctx.clock.now() + EXPIRY_RECHECK_SECONDS  # Stripe's expiry lags
    return None


def reconcile_payments(ctx: PaymentContext, job: Job) -> float | None:
    """Every few minutes (and at start-up): ask Stripe about each payment session it may
    still take money for, and apply what a lost or late webhook did not tell us. Stripe
    recommends this as the fallback to webhooks
    (https://docs.stripe.com/checkout/fulfillment#trigger-fulfillment-on-your-landing-page).
    Runs again after ``reconcile_interval_seconds``, whatever happened."""
    for session in ctx.repo.sessions_at_stripe(STRIPE_OPEN):
        try:
            info = ctx.gateway.retrieve_checkout_session(str(session.checkout_session_id))
        except PaymentsUnavailable as error:
            log.warning("reconciliation stopped, Stripe unavailable: %s", error)
            break
        except StripeRejected as error:
            log.error("reconciliation of %s: Stripe refused: %s", session.id, error)
            continue
        apply_checkout_state(ctx, ctx.session(session.id), info, SCHEDULER)
    return ctx.clock.now() + ctx.config.reconcile_interval_seconds


def expire_checkout(ctx: PaymentContext, job: Job) -> float | None:
    """Close a Checkout Session that must take no more money, whatever we think of it
    (it may be ``canceled`` here and still open at Stripe); expiring an expired or
    complete session only reads it back."""
    session = ctx.repo.get_payment_session(job.ref)
    if session is None or not session.reached_stripe or session.status == "succeeded":
        return None
    info = ctx.gateway.expire_checkout_session(str(session.checkout_session_id))
    apply_checkout_state(ctx, session, info, SCHEDULER)
    return None


# == mail and receipts =====================================================================
def send_reminder(ctx: PaymentContext, job: Job) -> float | None:
    """A fresh payment link by mail, if the buyer still needs one and may still try."""
    win_id, _, number = job.ref.split(":")
    win = ctx.repo.get_win(win_id)
    if win is None or ctx.repo.order_for_win(win.id) is not None:
        return None
    try:
        started = checkout(ctx, win, SCHEDULER)
    except PaymentRefused as refusal:
        if refusal.code in REMINDER_MOOT:
            return None
        raise
    buyer = ctx.repo.get_user(win.buyer_id)
    url = started.payment_session.checkout_url
    if buyer is None or url is None:
        return None
    seconds_left = ctx.window(win).seconds_left(ctx.clock.now())
    mail = reminder_mail(buyer, win, url, seconds_left, int(number),
                         ctx.config.merchant_name)
    phone = text_records(ctx).phone_of(buyer.id)
    with ctx.repo.transaction():
        mail_id = ctx.repo.queue_mail(mail, ctx.clock.timestamp())
        job_ids = [ctx.scheduler.schedule(SEND_MAIL, str(mail_id), ctx.clock.now())
                   if mail_id else None]
        if phone:
            job_ids.append(queue_text(ctx, reminder_text(
                phone, win, url, seconds_left, int(number), ctx.config.merchant_name),
                ctx.clock.now()))
    ctx.scheduler.run_now(job_ids)
    return None


def send_mail(ctx: PaymentContext, job: Job) -> float | None:
    mail = ctx.repo.get_mail(int(job.ref))
    if mail is None or mail.status != "pending" or ctx.mailer is None:
        return None  # without SMTP the mail stays queued, visible to an admin
    attachments = []
    if mail.receipt_order_id is not None:
        pdf = ensure_receipt(ctx, mail.receipt_order_id)
        if pdf is not None:
            attachments.append((f"receipt-{mail.receipt_order_id}.pdf", pdf,
                                "application/pdf"))
    try:
        ctx.mailer.send(mail.to, mail.subject, mail.text, attachments)
    except MailNotSent as error:
        return _mail_not_sent(ctx, mail.id, error)
    with ctx.repo.transaction():
        ctx.repo.mark_mail_sent(mail.id, ctx.clock.timestamp())
    return None


def _mail_not_sent(ctx: PaymentContext, mail_id: int, error: MailNotSent) -> float | None:
    with ctx.repo.transaction():
        ctx.repo.mark_mail_failed(mail_id, str(error), error.permanent)
    if error.permanent:
        ctx.alert("mail_failed", "warning", f"Mail {mail_id} refused: {error}",
                  subject_id=str(mail_id), quiet=0)
        return None
    raise error  # the scheduler retries with backoff


def issue_receipt(ctx: PaymentContext, job: Job) -> float | None:
    ensure_receipt(ctx, job.ref)
    return None


def ensure_receipt(ctx: PaymentContext, order_id: str) -> bytes | None:
    """The order's receipt PDF, rendered and stored the first time it is needed, its
    SHA-256 recorded with the order. Receipts are written once: one already on disk that
    the order does not record yet (another job was first, or a crash came between the
    write and the record) is adopted only if it is exactly what this job rendered."""
    order = ctx.repo.get_order(order_id)
    if order is None or order.transaction_id is None:
        return None
    if order.receipt_path and (pdf := load_receipt(ctx, order)):
        return pdf
    txn = ctx.repo.get_transaction(order.transaction_id)
    win, buyer = ctx.win(order.win_id), ctx.repo.get_user(order.buyer_id)
    if txn is None or buyer is None:
        return None
    pdf = ctx.render_receipt(win, txn, order.id, buyer, ctx.config.merchant_name)
    digest = hashlib.sha256(pdf).hexdigest()
    path = _store_once(ctx, order, pdf, digest)
    with ctx.repo.transaction():
        current = ctx.repo.get_order(order.id) or order
        if (current.receipt_path, current.receipt_sha256) != (path, digest):
            attached = current.with_receipt(path, digest, ctx.clock.timestamp())
            ctx.repo.save_order(attached)
            ctx.audit(SYSTEM, "order.receipt_attached", "order", order.id,
                      current.snapshot(), attached.snapshot())
    return pdf


def _store_once(ctx: PaymentContext, order: Order, pdf: bytes, digest: str) -> str:
    try:
        return ctx.receipts.save(order.id, pdf)
    except ReceiptExists as exists:
        load_receipt(ctx, order, digest)  # the same receipt, or refused as tampered
        return exists.path


def load_receipt(ctx: PaymentContext, order: Order, sha256: str | None = None) -> bytes | None:
    """The stored PDF, checked against the recorded SHA-256. One that fails the check is
    never served or mailed: an alert and a security event say so, and it raises."""
    try:
        return ctx.receipts.load(order.id, sha256 or order.receipt_sha256)
    except ReceiptTampered as tampered:
        record_tampered_receipt(ctx.repo, ctx.clock, tampered)
        raise


def record_tampered_receipt(repo: IncidentStore, clock: Clock, tampered: ReceiptTampered,
                            remote_addr: str = "") -> None:
    """A security event every time, and an alert for a human (one per receipt per
    quiet period)."""
    log.error("%s", tampered)
    now = clock.timestamp()
    with repo.transaction():
        repo.add_security_event("receipt_tampered", str(tampered), remote_addr, now)
    repo.add_alert(Alert("receipt_tampered", "critical", str(tampered), now, tampered.order_id),
                   unless_since=now - ALERT_QUIET_SECONDS)


JOB_RULES: dict[str, JobRule] = {
    CLOSE_WINDOW: close_window,
    CHECK_STRIPE_EXPIRY: check_stripe_expiry,
    SEND_REMINDER: send_reminder,
    SEND_MAIL: send_mail,
    SEND_SMS: send_text,
    ISSUE_RECEIPT: issue_receipt,
    EXPIRE_CHECKOUT: expire_checkout,
    RECONCILE_PAYMENTS: reconcile_payments,
    DELIVER_ALERT: deliver_alert,
    CHECK_FAILURE_RATE: check_failure_rate,
}
