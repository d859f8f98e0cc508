"""``PaymentService``: the one entry point of the payment rules, for the web layer, the
job ticker and the tests. Its methods delegate to the modules of this package, passing
the collaborators as one ``PaymentContext``."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict
from typing import Any

from simulator.common.clock import Clock
from simulator.common.ids import IdGenerator, default_ids
from simulator.service.config import ServiceConfig
from simulator.service.domain.auction import AuctionWin
from simulator.service.domain.audit import SYSTEM, user_actor
from simulator.service.domain.fraud import CheckoutSignals, FraudCheck, FraudPolicy
from simulator.service.domain.inbox import InboxEvent
from simulator.service.domain.jobs import Job
from simulator.service.domain.retry import RetryPolicy
from simulator.service.domain.three_d_secure import ThreeDSecurePolicy
from simulator.service.domain.transaction import Transaction
from simulator.service.payments import checkout, events, jobs, refunds, views
from simulator.service.payments.checkout import CheckoutStarted
from simulator.service.payments.context import PaymentContext
from simulator.service.payments.errors import PaymentRefused
from simulator.service.payments.inbox import EventInbox, Outcome
from simulator.service.payments.ports import (
    Gateway,
    MailSender,
    PaymentStore,
    ReceiptRenderer,
    Receipts,
    render_pdf_receipt,
)
from simulator.service.payments.views import PaymentStatusView
from simulator.service.scheduler import (
    CLOSE_WINDOW,
    RECONCILE_PAYMENTS,
    RECOVER_INBOX,
    UPKEEP_REF,
    Scheduler,
)

RECOVER_INBOX_EVERY_SECONDS = 30


class PaymentService:
    def __init__(self, repo: PaymentStore, gateway: Gateway, clock: Clock,
                 config: ServiceConfig, mailer: MailSender | None, receipts: Receipts, *,
                 ids: IdGenerator | None = None, render_receipt: ReceiptRenderer | None = None,
                 scheduler: Scheduler | None = None,
                 crash_point: Callable[[str], None] | None = None) -> None:
        self.repo = repo
        self.gateway = gateway
        self.clock = clock
        self.config = config
        self.mailer = mailer
        self.receipts = receipts
        self.ids = ids or default_ids
        self.render_receipt = render_receipt or render_pdf_receipt
        self.policy = RetryPolicy(config.max_retries, config.payment_window_hours)
        self.three_d_secure = ThreeDSecurePolicy(dict(config.three_d_secure_thresholds))
        self.fraud = FraudCheck(self.three_d_secure, FraudPolicy.from_settings(config.fraud))
        self.scheduler = scheduler or Scheduler(repo, clock)
        self._context = PaymentContext(
            repo=self.repo, gateway=self.gateway, clock=self.clock, config=self.config,
            mailer=self.mailer, receipts=self.receipts, ids=self.ids,
            render_receipt=self.render_receipt, policy=self.policy,
            three_d_secure=self.three_d_secure, fraud=self.fraud, scheduler=self.scheduler,
            **({"crash_point": crash_point} if crash_point else {}))
        # Looked up at call time, so a test may replace ``handle_event`` on the instance.
        self.inbox = EventInbox(repo, clock, lambda event: self.handle_event(event),
                                lease_seconds=config.inbox_lease_seconds,
                                crash_point=crash_point)
        jobs.register_jobs(self._context)
        self.scheduler.register(RECOVER_INBOX, self._recover_inbox)

    # == the buyer's side ==================================================================
    def record_win(self, win: AuctionWin) -> None:
        """An auction ended: the win and its window's closing job, in one transaction."""
        ctx = self._context
        with self.repo.transaction():
            self.repo.add_win(win)
            ctx.audit(SYSTEM, "win.recorded", "win", win.id, None, asdict(win))
            self.scheduler.schedule(CLOSE_WINDOW, win.id, ctx.window(win).closes_at)

    def start_checkout(self, buyer_id: str, auction_id: str,
                       signals: CheckoutSignals | None = None) -> CheckoutStarted:
        return checkout.start_checkout(self._context, buyer_id, auction_id, signals)

    def retry(self, buyer_id: str, payment_session_id: str,
              signals: CheckoutSignals | None = None) -> CheckoutStarted:
        return checkout.retry(self._context, buyer_id, payment_session_id, signals)

    def status(self, viewer_id: str, payment_session_id: str) -> PaymentStatusView:
        return views.status(self._context, viewer_id, payment_session_id)

    def confirm_return(self, checkout_session_id: str,
                       viewer_id: str | None = None) -> PaymentStatusView:
        return checkout.confirm_return(self._context, checkout_session_id, viewer_id)

    def resolve_review(self, admin_id: str, transaction_id: str) -> Transaction:
        """An admin looked at a flagged payment and cleared it."""
        admin = self.repo.get_user(admin_id)
        if admin is None or not admin.is_admin:
            raise PaymentRefused("forbidden", 403, "Only an administrator can clear a review.")
        with self.repo.transaction():
            txn = self.repo.get_transaction(transaction_id)
            if txn is None:
                raise PaymentRefused("not_found", 404, f"No such transaction: {transaction_id}")
            cleared = Transaction(**{**asdict(txn), "review_status": "cleared",
                                     "review_flags": txn.review_flags})
            self.repo.save_transaction(cleared)
            self._context.audit(user_actor(admin_id), "transaction.review_cleared",
                                "transaction", txn.id, txn.snapshot(), cleared.snapshot())
        return cleared

    def refund_order(self, gateway: refunds.RefundGateway, admin_id: str,
                     order_id: str) -> refunds.RefundRequested:
        """An admin refunds a paid order in full (``refunds.py``)."""
        return refunds.refund_order(self._context, gateway, admin_id, order_id)

    # == Stripe's side and the clock's =====================================================
    def receive_event(self, event: Mapping[str, Any], payload: str) -> Outcome:
        """A verified delivery: stored, deduplicated on processed, then handled. Raises
        ``EventFailed`` when the handler failed (Stripe should deliver again)."""
        return self.inbox.receive(event, payload)

    def replay_event(self, entry: InboxEvent) -> Outcome:
        return self.inbox.replay(entry)

    def handle_event(self, event: Mapping[str, Any]) -> None:
        """Dispatch a verified Stripe event; raises when the work could not be done."""
        events.handle_event(self._context, event)

    def schedule_upkeep(self) -> None:
        """Reconciliation with Stripe and inbox recovery: due now, then periodic."""
        now = self.clock.now()
        with self.repo.transaction():
            for kind in (RECONCILE_PAYMENTS, RECOVER_INBOX):
                self.repo.schedule_job_now(kind, UPKEEP_REF, now, self.clock.timestamp())

    def _recover_inbox(self, job: Job) -> float:
        self.inbox.recover()
        return self.clock.now() + RECOVER_INBOX_EVERY_SECONDS

    def run_due_jobs(self, now: float | None = None) -> int:
        return self.scheduler.run_due(now)

    def run_due_jobs_and_settle(self) -> int:
        """Due work, all of it finished (by this worker or another) before returning."""
        return self.scheduler.run_due_and_settle()

    def _cancel_order(self, win: AuctionWin) -> list[int | None]:
        return jobs.cancel_order(self._context, win)
