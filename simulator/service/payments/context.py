"""The collaborators every payment operation works with, and the lookups and records
they all share (audit entries, alerts)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from simulator.common.clock import Clock
from simulator.common.ids import IdGenerator
from simulator.service.config import ServiceConfig
from simulator.service.domain.alerts import Alert, Kind, Severity
from simulator.service.domain.auction import AuctionWin
from simulator.service.domain.audit import AuditEntry
from simulator.service.domain.fraud import FraudCheck
from simulator.service.domain.payment_session import PaymentSession
from simulator.service.domain.retry import RetryPolicy
from simulator.service.domain.three_d_secure import ThreeDSecurePolicy
from simulator.service.domain.window import PaymentWindow
from simulator.service.payments.ports import (
    Gateway,
    MailSender,
    PaymentStore,
    ReceiptRenderer,
    Receipts,
)
from simulator.service.scheduler import Scheduler

log = logging.getLogger("simulator.service.payments")

ALERT_QUIET_SECONDS = 300
STRIPE_OPEN = ("open", "processing", "failed")  # a Checkout Session Stripe may still take


@dataclass(frozen=True)
class PaymentContext:
    repo: PaymentStore
    gateway: Gateway
    clock: Clock
    config: ServiceConfig
    mailer: MailSender | None
    receipts: Receipts
    ids: IdGenerator
    render_receipt: ReceiptRenderer
    policy: RetryPolicy
    three_d_secure: ThreeDSecurePolicy
    fraud: FraudCheck
    scheduler: Scheduler
    # Test mode's fault injection (``crash_points.CrashPoints``); a no-op otherwise.
    crash_point: Callable[[str], None] = field(default=lambda _point: None)

    def session(self, session_id: str) -> PaymentSession:
        session = self.repo.get_payment_session(session_id)
        if session is None:
            raise LookupError(f"payment session {session_id} vanished")
        return session

    def win(self, win_id: str) -> AuctionWin:
        win = self.repo.get_win(win_id)
        if win is None:
            raise LookupError(f"win {win_id} vanished")
        return win

    def window(self, win: AuctionWin) -> PaymentWindow:
        return PaymentWindow(win.ended_at, self.config.payment_window_hours)

    def audit(self, actor: str, action: str, subject_type: str, subject_id: str,
              before: dict[str, Any] | None, after: dict[str, Any] | None) -> None:
        """Called inside the transaction that makes the change it records."""
        self.repo.add_audit(AuditEntry(actor, action, subject_type, subject_id, before, after,
                                       self.clock.timestamp()))

    def alert(self, kind: Kind, severity: Severity, message: str, *,
              subject_id: str | None = None, quiet: int = ALERT_QUIET_SECONDS) -> None:
        """One alert per kind and subject per ``quiet`` seconds (0: every time)."""
        now = self.clock.timestamp()
        self.repo.add_alert(Alert(kind, severity, message, now, subject_id),
                            unless_since=now - quiet if quiet else None)
