"""The back office, for users with the ``admin`` role: payments, orders, transactions,
the webhook inbox (with its failures, which an admin can process again), the audit log,
alerts, security events, the fraud review queue and the mail outbox.

Every list is a table of columns and cells built here and rendered by one template,
so each page has the same stable ``data-testid`` hooks (``admin-table``, ``admin-row``
with ``data-id``, ``cell-<column>``)."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from simulator.service.adapters.admin_reports import Granularity, TimeRange
from simulator.service.domain.auction import AuctionWin
from simulator.service.domain.audit import AuditEntry
from simulator.service.domain.fraud import RuleResult
from simulator.service.domain.money import format_money
from simulator.service.domain.order import Order
from simulator.service.domain.payment_session import PaymentSession
from simulator.service.domain.transaction import Transaction
from simulator.service.payments.inbox import EventFailed
from simulator.service.web import security_log
from simulator.service.web.auth import admin_required, check_csrf, require_admin
from simulator.service.web.charts import Chart, bar_chart, bucket_text
from simulator.service.web.errors import InvalidRequest, NotFound
from simulator.service.web.receipt_links import receipt_url
from simulator.service.web.runtime import service_runtime
from simulator.service.web.templating import timestamp_text

log = logging.getLogger("simulator.service.admin")
bp = Blueprint("admin", __name__, url_prefix="/payments/admin")

SECTIONS = [
    ("index", "Overview"), ("payments", "Payments"), ("orders", "Orders"),
    ("transactions", "Transactions"), ("reviews", "Review queue"), ("webhooks", "Webhook inbox"),
    ("audit", "Audit log"), ("alerts", "Alerts"), ("security", "Security events"),
    ("mail", "Emails"), ("sms", "Text messages"),
]
LIMIT = 200


@bp.before_request
@admin_required
def _admins_only() -> None:
    """Every action an administrator takes (a POST) is a security event and an audit
    entry, whatever it is."""
    if request.method == "POST":
        check_csrf()
        security_log.record_with_audit("admin_action", require_admin().id,
                                       f"{request.method} {request.path}")


# -- the table model -------------------------------------------------------------------------
@dataclass(frozen=True)
class Column:
    key: str
    label: str
    mono: bool = False
    badge: bool = False


@dataclass(frozen=True)
class Cell:
    """``url`` makes a link; ``post_url`` a button posting the form (an admin action)."""

    text: str
    value: str = ""
    url: str | None = None
    post_url: str | None = None


def cell(value: Any, text: str | None = None, url: str | None = None) -> Cell:
    raw = "" if value is None else str(value)
    return Cell(text=raw if text is None else text, value=raw, url=url)


@dataclass(frozen=True)
class Row:
    id: str
    cells: dict[str, Cell] = field(default_factory=dict)


def _table(current: str, heading: str, columns: list[Column], rows: Iterable[Row],
           **extra: Any) -> str:
    return render_template("admin/table.html", current=current, heading=heading,
                           admin_sections=SECTIONS, columns=columns, rows=list(rows), **extra)


def _status_filter(allowed: tuple[str, ...]) -> str | None:
    status = request.args.get("status") or None
    return status if status in allowed else None


def _lot(wins: dict[str, AuctionWin], win_id: str) -> Cell:
    """The lot, linking to its payment's timeline."""
    win = wins.get(win_id)
    return cell(win_id, f"Lot {win.lot}: {win.title}" if win else win_id,
                url_for("admin.timeline", win_id=win_id) if win else None)


@bp.get("/timeline/<win_id>")
def timeline(win_id: str) -> str:
    """Everything that happened to one won lot's payment, in time order."""
    rt = service_runtime()
    found = rt.admin.timeline(win_id)
    if found is None:
        raise NotFound(f"No such won lot: {win_id}")
    win, order, now = found.win, found.order, rt.clock.timestamp()
    return render_template(
        "admin/timeline.html", current="payments", admin_sections=SECTIONS,
        heading=f"Lot {win.lot}: {win.title}", win=win, order=order, buyer=found.buyer_name,
        entries=[(readable_time(entry.at), relative_time(entry.at, now), entry)
                 for entry in found.entries],
        refundable=order is not None and order.status == "paid")


# -- overview --------------------------------------------------------------------------------
@bp.get("/")
def index() -> str:
    counts = service_runtime().admin.overview()
    stats = [
        ("payments", "Payments in progress", counts.payments_in_progress),
        ("orders", "Paid orders", counts.paid_orders),
        ("transactions", "Transactions", counts.transactions),
        ("reviews", "Waiting for review", counts.waiting_for_review),
        ("webhooks", "Failed webhooks", counts.failed_webhooks),
        ("alerts", "Alerts", counts.alerts),
        ("security", "Security events", counts.security_events),
    ]
    cards = [{"key": key, "label": label, "value": value, "url": url_for(f"admin.{key}")}
             for key, label, value in stats]
    granularity: Granularity = "hour" if request.args.get("bucket") == "hour" else "day"
    return render_template("admin/index.html", current="index", heading="Overview",
                           admin_sections=SECTIONS, stats=cards, granularity=granularity,
                           charts=_charts(granularity))


# How many buckets each chart shows: a day by the hour, a fortnight by the day.
BUCKETS: dict[Granularity, int] = {"hour": 24, "day": 14}


def _charts(granularity: Granularity) -> list[Chart]:
    """The overview's charts over time, each with its headline figure."""
    rt = service_runtime()
    reports = rt.admin.reports
    span = TimeRange(granularity, BUCKETS[granularity], rt.clock.timestamp())
    recovered, declined = reports.recovery_overall()
    overall = (f"{100 * recovered / declined:.0f}% of {declined} declined lots paid since"
               if declined else "No declined lots yet")
    currency, revenue = reports.revenue(span)
    charts = [
        bar_chart("success-rate", reports.success_rate(span), granularity=granularity),
        bar_chart("recovery-rate", reports.recovery_rate(span), granularity=granularity,
                  summary=overall),
        bar_chart("revenue", revenue, granularity=granularity, currency=currency),
        bar_chart("webhook-latency", reports.webhook_latency(span), granularity=granularity),
    ]
    charts += [bar_chart(f"failures-{reason}", series, granularity=granularity)
               for reason, series in reports.failures_by_reason(span).items()]
    return charts


@bp.post("/orders/<order_id>/refund")
def refund_order(order_id: str) -> Response:
    """Refund a paid order in full through Stripe. The form carries a confirmation box
    naming the order; a double submit refunds once (idempotency key per order)."""
    if request.form.get("confirm", "").strip() != order_id:
        raise InvalidRequest("Tick the box confirming the refund of this order.")
    rt = service_runtime()
    order = rt.admin.order(order_id)
    rt.service.refund_order(rt.gateway, require_admin().id, order_id)
    target = url_for("admin.timeline", win_id=order.win_id) if order else url_for(
        "admin.orders")
    return redirect(target, 303)


# -- payments, orders, transactions, reviews -------------------------------------------------
PAYMENT_STATUSES = ("open", "processing", "succeeded", "failed", "expired", "canceled")


@bp.get("/payments")
def payments() -> str:
    rt = service_runtime()
    wins = rt.admin.wins_by_id()
    columns = [Column("id", "Payment", mono=True), Column("lot", "Lot"),
               Column("buyer", "Buyer"), Column("attempt", "Attempt"),
               Column("amount", "Amount"), Column("status", "Status", badge=True),
               Column("failure", "Failure"), Column("expires", "Expires"),
               Column("checkout", "Checkout Session", mono=True)]
    sessions = rt.admin.payment_sessions(_status_filter(PAYMENT_STATUSES), LIMIT)
    names = rt.admin.user_names()
    rows = (_payment_row(session, wins, names) for session in sessions)
    return _table("payments", "Payments", columns, rows, **_filtering(PAYMENT_STATUSES))


def _payment_row(session: PaymentSession, wins: dict[str, AuctionWin],
                 names: dict[str, str]) -> Row:
    win = wins.get(session.win_id)
    return Row(session.id, {
        "id": cell(session.id, url=url_for("pages.payment_status",
                                           payment_session_id=session.id)),
        "lot": _lot(wins, session.win_id),
        "buyer": cell(session.buyer_id, names.get(session.buyer_id, session.buyer_id)),
        "attempt": cell(session.attempt),
        "amount": cell(win.amount if win else "", win.amount_display if win else ""),
        "status": cell(session.status),
        "failure": cell(session.failure_code, session.failure_reason or ""),
        "expires": cell(session.expires_at, timestamp_text(session.expires_at)),
        "checkout": cell(session.checkout_session_id),
    })


ORDER_STATUSES = ("created", "paid", "canceled", "refunded")


@bp.get("/orders")
def orders() -> str:
    rt = service_runtime()
    wins = rt.admin.wins_by_id()
    columns = [Column("id", "Order", mono=True), Column("lot", "Lot"), Column("buyer", "Buyer"),
               Column("status", "Status", badge=True), Column("transaction", "Transaction",
                                                              mono=True),
               Column("receipt", "Receipt"), Column("created", "Created")]
    found = rt.admin.orders(_status_filter(ORDER_STATUSES), LIMIT)
    names = rt.admin.user_names()
    rows = (_order_row(order, wins, names) for order in found)
    return _table("orders", "Orders", columns, rows, **_filtering(ORDER_STATUSES))


def _order_row(order: Order, wins: dict[str, AuctionWin], names: dict[str, str]) -> Row:
    receipt = receipt_url(order.id, require_admin().id) if order.receipt_path else None
    return Row(order.id, {
        "id": cell(order.id), "lot": _lot(wins, order.win_id),
        "buyer": cell(order.buyer_id, names.get(order.buyer_id, order.buyer_id)),
        "status": cell(order.status), "transaction": cell(order.transaction_id),
        "receipt": cell(order.receipt_path, "PDF" if receipt else "", receipt),
        "created": cell(order.created_at, timestamp_text(order.created_at)),
    })


TRANSACTION_COLUMNS = [
    Column("id", "Transaction", mono=True), Column("lot", "Lot"), Column("amount", "Amount"),
    Column("fee", "Fee"), Column("net", "Net"), Column("card", "Card"),
    Column("three_d_secure", "3-D Secure"), Column("risk", "Risk", badge=True),
    Column("status", "Status", badge=True), Column("review", "Review", badge=True),
    Column("created", "Created"),
]


@bp.get("/transactions")
def transactions() -> str:
    admin = service_runtime().admin
    wins = admin.wins_by_id()
    rows = (_transaction_row(txn, wins) for txn in admin.transactions(LIMIT))
    return _table("transactions", "Transactions", TRANSACTION_COLUMNS, rows)


@bp.get("/reviews")
def reviews() -> str:
    """Payments a fraud rule flagged: a human looks before the lot ships."""
    admin = service_runtime().admin
    wins = admin.wins_by_id()
    columns = [*TRANSACTION_COLUMNS[:-2], Column("flags", "Why"), TRANSACTION_COLUMNS[-1],
               Column("clear", "")]
    rows = (_review_row(txn, wins, admin.review_findings(txn.id))
            for txn in admin.review_queue())
    return _table("reviews", "Review queue", columns, rows,
                  description="Payments flagged by the fraud rules, oldest first.")


def _review_row(txn: Transaction, wins: dict[str, AuctionWin],
                findings: list[RuleResult]) -> Row:
    """"Why" lists each rule that held the payment: its decision and its reason."""
    row = _transaction_row(txn, wins)
    clear = url_for("admin.clear_review", transaction_id=txn.id)
    why = {"flags": cell(",".join(txn.review_flags), " · ".join(
        f"{r.decision.capitalize()} ({r.code}): {r.reason}" for r in findings))} if findings else {}
    return Row(row.id, {**row.cells, **why, "clear": Cell("Clear", txn.id, post_url=clear)})


@bp.post("/reviews/<transaction_id>/clear")
def clear_review(transaction_id: str) -> Response:
    """A human looked at the flagged payment and found nothing wrong (audited)."""
    service_runtime().service.resolve_review(require_admin().id, transaction_id)
    return redirect(url_for("admin.reviews"), 303)


def _transaction_row(txn: Transaction, wins: dict[str, AuctionWin]) -> Row:
    card = f"{(txn.card_brand or 'card').title()} •••• {txn.card_last4}" if txn.card_last4 else ""
    return Row(txn.id, {
        "id": cell(txn.id), "lot": _lot(wins, txn.win_id),
        "amount": cell(txn.amount, format_money(txn.amount, txn.currency)),
        "fee": cell(txn.fee, format_money(txn.fee or 0, txn.currency)),
        "net": cell(txn.net, format_money(txn.net or 0, txn.currency)),
        "card": cell(txn.card_last4, card),
        "three_d_secure": cell(txn.three_d_secure_result, txn.three_d_secure_result or "none"),
        "risk": cell(txn.risk_level, txn.risk_level or ""),
        "status": cell(txn.status), "review": cell(txn.review_status),
        "flags": cell(",".join(txn.review_flags), ", ".join(txn.review_flags)),
        "created": cell(txn.created_at, timestamp_text(txn.created_at)),
    })


# -- webhook inbox ---------------------------------------------------------------------------
INBOX_STATUSES = ("received", "processed", "failed")


@bp.get("/webhooks")
def webhooks() -> str:
    columns = [Column("event", "Event", mono=True), Column("type", "Type"),
               Column("status", "Status", badge=True), Column("attempts", "Attempts"),
               Column("received", "Received"), Column("error", "Error")]
    found = service_runtime().admin.webhook_events(_status_filter(INBOX_STATUSES), LIMIT)
    rows = (Row(entry.event_id, {
        "event": cell(entry.event_id, url=url_for("admin.webhook_event",
                                                  event_id=entry.event_id)),
        "type": cell(entry.type), "status": cell(entry.status),
        "attempts": cell(entry.attempts),
        "received": cell(entry.received_at, timestamp_text(entry.received_at)),
        "error": cell(entry.error or ""),
    }) for entry in found)
    return _table("webhooks", "Webhook inbox", columns, rows, **_filtering(INBOX_STATUSES))


@bp.get("/webhooks/<event_id>")
def webhook_event(event_id: str) -> str:
    entry = service_runtime().admin.webhook_event(event_id)
    if entry is None:
        raise NotFound(f"No such event in the inbox: {event_id}")
    payload = json.dumps(json.loads(entry.payload), indent=2, sort_keys=True)
    return render_template("admin/webhook.html", current="webhooks", heading=entry.type,
                           admin_sections=SECTIONS, entry=entry, payload=payload)


@bp.post("/webhooks/<event_id>/replay")
def replay_webhook(event_id: str) -> Response:
    """Process a failed delivery again from the stored payload, without waiting for
    Stripe's next retry. The handlers are idempotent, so this is always safe."""
    rt = service_runtime()
    entry = rt.admin.webhook_event(event_id)
    if entry is None:
        raise NotFound(f"No such event in the inbox: {event_id}")
    try:
        rt.service.replay_event(entry)
    except EventFailed:
        log.warning("replay of webhook %s failed; the error is on its page", event_id)
    return redirect(url_for("admin.webhook_event", event_id=event_id), 303)


# -- audit log, alerts, security events, mail ------------------------------------------------
AUDIT_PAGE = 50


@bp.get("/audit")
def audit() -> str:
    """The audit log a page at a time, newest first; ``?order=`` keeps the entries about
    one order (the order, its lot, its payment attempts and payments)."""
    rt = service_runtime()
    reports = rt.admin.reports
    order_id = (request.args.get("order") or "").strip()
    subjects = reports.order_subjects(order_id) if order_id else set()
    if order_id and not subjects:
        raise NotFound(f"No such order: {order_id}")
    page = max(1, request.args.get("page", 1, type=int) or 1)
    entries, total = reports.audit_page(page, AUDIT_PAGE, subjects)
    now = rt.clock.timestamp()
    columns = [Column("at", "When"), Column("actor", "Who"), Column("action", "Action"),
               Column("subject", "Subject", mono=True), Column("changes", "Changes")]
    rows = (Row(f"{entry.subject_type}:{entry.subject_id}:{entry.at}:{number}", {
        "at": cell(entry.at, f"{readable_time(entry.at)} ({relative_time(entry.at, now)})"),
        "actor": cell(entry.actor), "action": cell(entry.action),
        "subject": cell(entry.subject_id, f"{entry.subject_type} {entry.subject_id}"),
        "changes": cell(entry.action, _changes(entry)),
    }) for number, entry in enumerate(entries))
    pages = max(1, -(-total // AUDIT_PAGE))
    keep: dict[str, Any] = {"order": order_id} if order_id else {}
    links = {key: url_for("admin.audit", page=number, **keep)
             for key, number in (("newer", page - 1), ("older", page + 1)) if 1 <= number <= pages}
    return _table("audit", "Audit log", columns, rows, pager={
        "page": page, "pages": pages, "total": total, "order": order_id, **links},
        description=f"Entries about order {order_id}." if order_id else None)


def readable_time(at: int) -> str:
    """``2026-11-27 14:03 UTC``: minutes are what a person reads."""
    return bucket_text(at, "minute")


def relative_time(at: int, now: int) -> str:
    """``3 h ago``, ``in 5 min``, ``just now``."""
    seconds = now - at
    size = abs(seconds)
    if size < 60:
        return "just now"
    for unit, length in (("d", 86_400), ("h", 3600), ("min", 60)):
        if size >= length:
            amount = f"{size // length} {unit}"
            return f"{amount} ago" if seconds > 0 else f"in {amount}"
    return "just now"


def _changes(entry: AuditEntry) -> str:
    return "; ".join(f"{key}: {_short(old)} → {_short(new)}"
                     for key, (old, new) in entry.changed_fields().items()
                     if key != "updated_at")


def _short(value: Any) -> str:
    text = "—" if value is None else str(value)
    return text if len(text) <= 40 else f"{text[:37]}..."


@bp.get("/alerts")
def alerts() -> str:
    columns = [Column("at", "When"), Column("severity", "Severity", badge=True),
               Column("kind", "Kind"), Column("message", "Message"),
               Column("subject", "Subject", mono=True)]
    found = service_runtime().admin.alerts(LIMIT)
    rows = (Row(f"{alert.kind}:{alert.at}:{number}", {
        "at": cell(alert.at, timestamp_text(alert.at)), "severity": cell(alert.severity),
        "kind": cell(alert.kind), "message": cell(alert.message),
        "subject": cell(alert.subject_id or ""),
    }) for number, alert in enumerate(found))
    return _table("alerts", "Alerts", columns, rows)


@bp.get("/security")
def security() -> str:
    columns = [Column("at", "When"), Column("kind", "Kind"), Column("detail", "Detail"),
               Column("remote", "From", mono=True), Column("count", "Times")]
    found = service_runtime().admin.security_events(LIMIT)
    rows = (Row(str(event["id"]), {
        "at": cell(event["at"], timestamp_text(event["at"])), "kind": cell(event["kind"]),
        "detail": cell(event["detail"]), "remote": cell(event["remote_addr"]),
        "count": cell(event.get("count") or 1),
    }) for event in found)
    return _table("security", "Security events", columns, rows,
                  description="Sign-ins and failed sign-ins, refusals (403, CSRF, signatures,"
                  " rate limits) and administrators' actions. What anyone can cause at will"
                  " is counted per five minutes (the last time and address are shown).")


@bp.get("/mail")
def mail() -> str:
    columns = [Column("at", "Queued"), Column("to", "To"), Column("subject", "Subject"),
               Column("delivery", "Delivery", badge=True), Column("attempts", "Attempts"),
               Column("receipt", "Receipt", mono=True)]
    found = service_runtime().admin.mail(LIMIT)
    rows = (Row(str(queued.id), {
        "at": cell(queued.created_at, timestamp_text(queued.created_at)
                   if queued.created_at else ""),
        "to": cell(queued.to), "delivery": cell(queued.delivery),
        "subject": cell(queued.subject, url=url_for("admin.mail_message", mail_id=queued.id)),
        "attempts": cell(queued.attempts), "receipt": cell(queued.receipt_order_id or ""),
    }) for queued in found)
    return _table("mail", "Emails", columns, rows,
                  description="Every message the service sends, as sent (receipts with their"
                  " PDF). Queued mail goes out within seconds; a failed try is retried with"
                  " backoff and never holds up a payment.")


@bp.get("/sms")
def sms() -> str:
    """The text messages, beside the mail: the same delivery tracking."""
    columns = [Column("at", "Queued"), Column("to", "To", mono=True), Column("text", "Text"),
               Column("delivery", "Delivery", badge=True), Column("attempts", "Attempts"),
               Column("error", "Last error")]
    found = service_runtime().admin.text_messages(LIMIT)
    rows = (Row(str(text.id), {
        "at": cell(text.created_at, timestamp_text(text.created_at) if text.created_at
                   else ""),
        "to": cell(text.to), "text": cell(text.text), "delivery": cell(text.delivery),
        "attempts": cell(text.attempts), "error": cell(text.last_error or ""),
    }) for text in found)
    return _table("sms", "Text messages", columns, rows,
                  description="Every SMS the service sends to a buyer's phone (payment"
                  " received, reminders) through its SMS provider; locally, the outbox file"
                  " named by SMS_OUTBOX. A failed try is retried with backoff, as for mail.")


@bp.get("/mail/<int:mail_id>")
def mail_message(mail_id: int) -> str:
    queued = service_runtime().admin.mail_message(mail_id)
    if queued is None:
        raise NotFound(f"No such email: {mail_id}")
    return render_template("admin/mail.html", current="mail", heading=queued.subject,
                           admin_sections=SECTIONS, mail=queued)


@bp.get("/mail/<int:mail_id>/receipt.pdf")
def mail_attachment(mail_id: int) -> Response:
    """The PDF attached to a receipt email, checked against its recorded SHA-256."""
    rt = service_runtime()
    order = rt.admin.mail_receipt_order(mail_id)
    pdf = rt.receipts.load(order.id, order.receipt_sha256) if order else None
    if order is None or not pdf:
        raise NotFound(f"Email {mail_id} has no receipt attached.")
    return Response(pdf, mimetype="application/pdf", headers={
        "Content-Disposition": f'inline; filename="receipt-{order.id}.pdf"',
        "Cache-Control": "private, no-store"})


def _filtering(statuses: tuple[str, ...]) -> dict[str, Any]:
    """The status filter buttons, and which one is on ("All" when none is)."""
    return {"filters": [("", "All"), *((status, status.title()) for status in statuses)],
            "active_filter": _status_filter(statuses) or ""}

