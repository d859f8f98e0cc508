"""What the admin's pages read: the overview's counts, the lists of payments, orders,
transactions, webhook events, alerts, security events, mail and texts, the fraud review
queue with each rule's finding, and a payment's timeline. The figures over time are the
named queries of ``adapters/admin_reports.py`` (``reports``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from simulator.service.adapters.admin_reports import AdminReports, TimelineEntry
from simulator.service.adapters.sms_records import QueuedText
from simulator.service.domain.alerts import Alert
from simulator.service.domain.auction import AuctionWin
from simulator.service.domain.fraud import RuleResult
from simulator.service.domain.inbox import InboxEvent
from simulator.service.domain.notification import QueuedMail
from simulator.service.domain.order import Order
from simulator.service.domain.payment_session import LIVE, PaymentSession
from simulator.service.domain.stores import BackOfficeReads
from simulator.service.domain.transaction import Transaction
from simulator.service.payments.ports import SideRecords


class BackOfficeStore(BackOfficeReads, SideRecords, Protocol):
    """The admin's lists, and the fraud decisions and text messages beside them."""


@dataclass(frozen=True)
class Overview:
    """The overview's counts."""

    payments_in_progress: int
    paid_orders: int
    transactions: int
    waiting_for_review: int
    failed_webhooks: int
    alerts: int
    security_events: int


@dataclass(frozen=True)
class PaymentTimeline:
    """Everything that happened to one won lot's payment, oldest first."""

    win: AuctionWin
    order: Order | None
    buyer_name: str
    entries: list[TimelineEntry]


class AdminQueries:
    def __init__(self, store: BackOfficeStore, reports: AdminReports) -> None:
        self.store = store
        self.reports = reports

    def overview(self) -> Overview:
        store = self.store
        return Overview(
            payments_in_progress=store.count_payment_sessions(LIVE),
            paid_orders=store.count_orders("paid"),
            transactions=store.count_transactions(),
            waiting_for_review=store.count_transactions(review_status="pending"),
            failed_webhooks=store.count_webhook_events("failed"),
            alerts=store.count_alerts(),
            security_events=store.count_security_event_rows())

    def wins_by_id(self) -> dict[str, AuctionWin]:
        return {win.id: win for win in self.store.list_wins()}

    def user_names(self) -> dict[str, str]:
        return {user.id: user.name for user in self.store.list_users()}

    def timeline(self, win_id: str) -> PaymentTimeline | None:
        """None when no such lot was won."""
        win = self.store.get_win(win_id)
        if win is None:
            return None
        entries = self.reports.payment_timeline(win_id)
        return PaymentTimeline(win, self.store.order_for_win(win_id),
                               self.user_names().get(win.buyer_id, win.buyer_id), entries)

    def order(self, order_id: str) -> Order | None:
        """The order an admin refunds (its lot's timeline is shown next)."""
        return self.store.get_order(order_id)

    # -- payments, orders, transactions, reviews ---------------------------------------
    def payment_sessions(self, status: str | None, limit: int) -> list[PaymentSession]:
        """Payment attempts, the newest first (``status`` None: all of them)."""
        return self.store.list_payment_sessions(status, limit)

    def orders(self, status: str | None, limit: int) -> list[Order]:
        """The newest first (``status`` None: all of them)."""
        return self.store.list_orders(status, limit)

    def transactions(self, limit: int) -> list[Transaction]:
        """Payments recorded, the newest first."""
        return self.store.list_transactions(limit)

    def review_queue(self) -> list[Transaction]:
        """Payments a fraud rule flagged, oldest first."""
        return self.store.review_queue()

    def review_findings(self, transaction_id: str) -> list[RuleResult]:
        """Each rule that held the payment (its decision and reason); allows are left out."""
        return [result for result in self.store.fraud_signals.decisions_for(
            "transaction", transaction_id) if result.decision != "allow"]

    # -- the webhook inbox, alerts, security events, mail and texts --------------------
    def webhook_events(self, status: str | None, limit: int) -> list[InboxEvent]:
        """Stripe's events in the inbox, the latest received first (``status`` None: all)."""
        return self.store.list_webhook_events(status, limit)

    def webhook_event(self, event_id: str) -> InboxEvent | None:
        return self.store.get_webhook_event(event_id)

    def alerts(self, limit: int) -> list[Alert]:
        """The newest first."""
        return self.store.list_alerts(limit)

    def security_events(self, limit: int) -> list[dict[str, Any]]:
        """The newest first, each a stored row with its detail decrypted."""
        return self.store.list_security_events(limit)

    def mail(self, limit: int) -> list[QueuedMail]:
        """Every message queued, the newest first."""
        return self.store.list_mail(None, limit)

    def mail_message(self, mail_id: int) -> QueuedMail | None:
        return self.store.get_mail(mail_id)

    def mail_receipt_order(self, mail_id: int) -> Order | None:
        """The order whose receipt the mail carries (None: no such mail, or no receipt)."""
        queued = self.store.get_mail(mail_id)
        if queued is None or not queued.receipt_order_id:
            return None
        return self.store.get_order(queued.receipt_order_id)

    def text_messages(self, limit: int) -> list[QueuedText]:
        return self.store.text_messages.list(limit)
