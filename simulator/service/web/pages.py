"""The buyer's pages: sign in, "My winnings" with a live countdown and a Pay button,
the return from Stripe Checkout, the payment's status page (attempts, the reason a
payment failed, a retry button) and the receipt download.

Pay and retry are forms posted here that answer with a redirect to Stripe's hosted page
(``303 See Other``); the return page re-reads the session from Stripe before showing
anything (https://docs.stripe.com/payments/checkout/custom-success-page), since the
redirect alone proves nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from urllib.parse import unquote, urlsplit

from flask import Blueprint, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from simulator.service.adapters.errors import ReceiptTampered
from simulator.service.domain.auction import AuctionWin
from simulator.service.domain.order import Order
from simulator.service.domain.payment_session import PaymentSession
from simulator.service.domain.retry import Allowed, RetryPolicy
from simulator.service.domain.window import PaymentWindow
from simulator.service.web import security_log
from simulator.service.web.auth import (
    authenticate,
    check_csrf,
    login_required,
    require_viewer,
    sign_in,
    sign_out,
)
from simulator.service.web.device import checkout_signals
from simulator.service.web.errors import Forbidden, InvalidRequest, NotFound, WebError
from simulator.service.web.receipt_links import check_receipt_link, receipt_url
from simulator.service.web.runtime import ServiceRuntime, service_runtime

bp = Blueprint("pages", __name__)

STATUS_TEXT = {
    "open": ("Awaiting payment", "Your checkout is ready: continue to Stripe to pay."),
    "processing": ("Processing", "We are confirming your payment. This page updates by itself."),
    "succeeded": ("Paid", "Thank you! Your payment was received."),
    "failed": ("Payment failed", "Your payment did not go through."),
    "expired": ("Expired", "This payment session expired before it was paid."),
    "canceled": ("Canceled", "This payment was canceled."),
}
RETRYABLE = ("failed", "expired", "canceled")


@bp.before_request
def _forms_carry_csrf() -> None:
    if request.method == "POST":
        check_csrf()


# -- signing in ------------------------------------------------------------------------------
@bp.get("/")
def home() -> Response:
    return redirect(url_for("pages.winnings"))


@bp.get("/payments/login")
def login() -> str:
    return render_template("login.html", next_url=safe_next(request.values.get("next")),
                           email="", error=None)


@bp.post("/payments/login")
def sign_in_as() -> Response | tuple[str, int]:
    """E-mail and password; a failure says no more than that (which address exists is
    nobody's business), is counted against the address and the client (``limits.py``)
    and recorded as a security event."""
    email = request.form.get("email", "").strip()[:320]
    user = authenticate(email, request.form.get("password", "")[:1024])
    if user is None:
        security_log.record("sign_in_failed", f"for {email or '(no address)'}")
        page = render_template("login.html", next_url=safe_next(request.form.get("next")),
                               email=email, error="That e-mail address and password do not"
                               " match an account.")
        return page, 401
    sign_in(user.id)
    security_log.record_with_audit("signed_in", user.id, f"{user.role} {user.id}")
    default = url_for("admin.index") if user.role == "admin" else url_for("pages.winnings")
    return redirect(safe_next(request.form.get("next")) or default, 303)


@bp.post("/payments/logout")
def logout() -> Response:
    sign_out()
    return redirect(url_for("pages.login"), 303)


def safe_next(target: str | None) -> str:
    """Only a path on this site. Refused: anything that is not a plain absolute path
    (``//host``, ``/\\host``, a scheme, a control character such as the tab in
    ``/%09/evil.example/``, which browsers drop to read ``//evil.example/``), checked
    again once percent-decoded."""
    if not target or len(target) > 2000:
        return ""
    for form in (target, unquote(target)):
        if not form.startswith("/") or form.startswith(("//", "/\\")):
            return ""
        if "\\" in form or any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in form):
            return ""
        parts = urlsplit(form)
        if parts.scheme or parts.netloc:
            return ""
    return target


# -- my winnings -----------------------------------------------------------------------------
@dataclass(frozen=True)
class WinningRow:
    """One win as the buyer's list shows it."""

    win_id: str
    lot: int
    title: str
    amount_display: str
    window_ends_at: int
    seconds_left: int
    state: str
    state_label: str
    can_pay: bool
    pay_label: str
    payment_session_id: str | None
    receipt_url: str | None


def winning_row(win: AuctionWin, sessions: Sequence[PaymentSession], order: Order | None,
                now: float, policy: RetryPolicy) -> WinningRow:
    window = PaymentWindow(win.ended_at, policy.window_hours)
    latest = max(sessions, key=lambda s: (s.attempt, s.created_at), default=None)
    state, label = _win_state(win, sessions, latest, order, now, policy)
    usable = latest is not None and latest.is_usable(now)
    can_pay = state in ("awaiting", "open", "failed") and (
        usable or isinstance(policy.decide(win, sessions, now), Allowed))
    paid = order is not None and order.status in ("paid", "refunded")
    return WinningRow(
        win_id=win.id, lot=win.lot, title=win.title, amount_display=win.amount_display,
        window_ends_at=window.closes_at, seconds_left=window.seconds_left(now),
        state=state, state_label=label, can_pay=can_pay,
        pay_label="Continue to payment" if usable else f"Pay {win.amount_display}",
        payment_session_id=latest.id if latest else None,
        receipt_url=receipt_url(order.id, win.buyer_id) if paid and order else None,
    )


def _win_state(win: AuctionWin, sessions: Sequence[PaymentSession],
               latest: PaymentSession | None, order: Order | None, now: float,
               policy: RetryPolicy) -> tuple[str, str]:
    """What the buyer most needs to know, in that order: paid, in flight, too late."""
    if order is not None and order.status in ("paid", "refunded"):
        return "paid", "Refunded" if order.status == "refunded" else "Paid"
    if any(s.status == "processing" for s in sessions):
        return "in_progress", "Payment processing"
    if not PaymentWindow(win.ended_at, policy.window_hours).is_open(now):
        return "closed", "Window closed"
    if latest is not None and latest.status == "open":
        return "open", "Checkout started"
    if latest is not None and latest.status in RETRYABLE:
        left = policy.attempts_left(sessions)
        return "failed", f"Payment failed · {left} attempt{'s' if left != 1 else ''} left"
    return "awaiting", "Awaiting payment"


def buyer_winnings(rt: ServiceRuntime, buyer_id: str) -> list[WinningRow]:
    policy = RetryPolicy(rt.config.max_retries, rt.config.payment_window_hours)
    now = rt.clock.now()
    return [winning_row(found.win, found.sessions, found.order, now, policy)
            for found in rt.buyers.winnings(buyer_id)]


@bp.get("/payments/winnings")
@login_required
def winnings() -> str:
    rows = buyer_winnings(service_runtime(), require_viewer().id)
    return render_template("winnings.html", rows=rows)


@bp.post("/payments/winnings/<auction_id>/pay")
@login_required
def pay(auction_id: str) -> Response:
    started = service_runtime().service.start_checkout(require_viewer().id, auction_id,
                                                        checkout_signals())
    return _to_checkout(started.payment_session)


def _to_checkout(session: PaymentSession) -> Response:
    if not session.checkout_url:
        return redirect(url_for("pages.payment_status", payment_session_id=session.id), 303)
    return redirect(session.checkout_url, 303)


# -- back from Stripe, and the status page ----------------------------------------------------
@bp.get("/payments/return")
@login_required
def checkout_return() -> Response:
    """Stripe's ``success_url`` (``?session_id={CHECKOUT_SESSION_ID}``)."""
    checkout_session_id = request.args.get("session_id", "")
    if not checkout_session_id.startswith("cs_"):
        raise InvalidRequest("The link is missing its Checkout Session.")
    view = service_runtime().service.confirm_return(checkout_session_id, require_viewer().id)
    return redirect(url_for("pages.payment_status", payment_session_id=view.id), 303)


@bp.get("/payments/cancel")
@login_required
def checkout_canceled() -> Response:
    """Stripe's ``cancel_url``: the buyer left the Checkout page without paying."""
    payment_session_id = request.args.get("payment_session_id")
    if payment_session_id:
        return redirect(url_for("pages.payment_status", payment_session_id=payment_session_id))
    return redirect(url_for("pages.winnings"))


@bp.get("/payments/sessions/<payment_session_id>")
@login_required
def payment_status(payment_session_id: str) -> str:
    viewer = require_viewer()
    view = service_runtime().service.status(viewer.id, payment_session_id)
    if view.receipt_url and view.order_id:
        view = replace(view, receipt_url=receipt_url(view.order_id, viewer.id))
    label, message = STATUS_TEXT.get(view.status, (view.status, ""))
    can_retry = (view.status in RETRYABLE and view.attempts_left > 0 and view.seconds_left > 0)
    return render_template(
        "status.html", view=view, status_label=label, message=message, can_retry=can_retry,
        poll=view.status in ("open", "processing"),
    )


@bp.post("/payments/sessions/<payment_session_id>/retry")
@login_required
def retry(payment_session_id: str) -> Response:
    started = service_runtime().service.retry(require_viewer().id, payment_session_id,
                                               checkout_signals())
    return _to_checkout(started.payment_session)


# -- the receipt -----------------------------------------------------------------------------
@bp.get("/payments/receipts/<order_id>.pdf")
@login_required
def receipt(order_id: str) -> Response:
    """The buyer's own receipt, or any receipt for an admin, through a signed link that
    expires (``receipt_links.py``); the PDF is checked against its recorded SHA-256."""
    rt = service_runtime()
    viewer = require_viewer()
    order = rt.buyers.order(order_id)
    if order is None:
        raise NotFound(f"No such order: {order_id}")
    if order.buyer_id != viewer.id and not viewer.is_admin:
        raise Forbidden("This receipt belongs to another buyer.")
    check_receipt_link(order.id, viewer.id)
    pdf = _receipt_bytes(rt, order)
    return Response(pdf, mimetype="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="receipt-{order.id}.pdf"',
        "Cache-Control": "private, no-store",
    })


def _receipt_bytes(rt: ServiceRuntime, order: Order) -> bytes:
    """A receipt exists once the payment's receipt job has run (right after payment)."""
    try:
        pdf = rt.receipts.load(order.id, order.receipt_sha256) \
            if order.status in ("paid", "refunded") else None
    except ReceiptTampered as tampered:
        rt.security.receipt_tampered(tampered, request.remote_addr or "")
        raise WebError("receipt_tampered", 500, "This receipt failed its integrity check and"
                       " was withheld; an administrator has been alerted.") from None
    if not pdf:
        raise NotFound("The receipt is not ready yet.")
    return pdf
