"""What a buyer (or an admin) sees of a payment: its status, attempts and links."""

from __future__ import annotations

from dataclasses import dataclass

from simulator.service.domain.payment_session import PaymentSession
from simulator.service.payments.context import PaymentContext
from simulator.service.payments.errors import PaymentRefused

RECEIPT_PATH = "/payments/receipts/{order_id}.pdf"


@dataclass(frozen=True)
class PaymentStatusView:
    id: str
    status: str
    amount: int
    currency: str
    amount_display: str
    seconds_left: int
    attempts_used: int
    attempts_left: int
    failure_reason: str | None
    receipt_url: str | None
    checkout_url: str | None
    expires_at: int
    window_ends_at: int
    win_id: str
    lot: int
    title: str
    attempt: int
    order_id: str | None


def status(ctx: PaymentContext, viewer_id: str, payment_session_id: str) -> PaymentStatusView:
    return view(ctx, visible_session(ctx, viewer_id, payment_session_id))


def view(ctx: PaymentContext, session: PaymentSession) -> PaymentStatusView:
    win = ctx.win(session.win_id)
    sessions = ctx.repo.sessions_for_win(win.id)
    order = ctx.repo.order_for_win(win.id)
    now = ctx.clock.now()
    window = ctx.window(win)
    paid = order is not None and order.status in ("paid", "refunded")
    closed = paid or not window.is_open(now)
    return PaymentStatusView(
        id=session.id, status=session.status, amount=win.amount, currency=win.currency,
        amount_display=win.amount_display, seconds_left=window.seconds_left(now),
        attempts_used=ctx.policy.attempts_used(sessions),
        attempts_left=0 if closed else ctx.policy.attempts_left(sessions),
        failure_reason=session.failure_reason,
        receipt_url=RECEIPT_PATH.format(order_id=order.id)
        if paid and order is not None and order.receipt_path else None,
        checkout_url=session.checkout_url if session.is_usable(now) else None,
        expires_at=session.expires_at, window_ends_at=session.window_ends_at,
        win_id=win.id, lot=win.lot, title=win.title, attempt=session.attempt,
        order_id=order.id if order is not None else None,
    )


def visible_session(ctx: PaymentContext, viewer_id: str,
                    payment_session_id: str) -> PaymentSession:
    session = ctx.repo.get_payment_session(payment_session_id)
    if session is None:
        raise PaymentRefused("not_found", 404, f"No such payment: {payment_session_id}")
    if session.buyer_id != viewer_id:
        viewer = ctx.repo.get_user(viewer_id)
        if viewer is None or not viewer.is_admin:
            raise PaymentRefused("forbidden", 403, "This payment belongs to another buyer.")
    return session
