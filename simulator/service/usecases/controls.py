"""What test mode's routes (``/_test``) do to the records: when the next timed rule is
due, crash points armed for fault tests, and the clean slate between scenarios."""

from __future__ import annotations

from typing import Protocol

from simulator.common.clock import Clock
from simulator.service.domain.stores import StateStore
from simulator.service.payments.crash_points import CrashPoints
from simulator.service.payments.ports import SideRecords
from simulator.service.scheduler import RECONCILE_PAYMENTS, RECOVER_INBOX

# The periodic upkeep jobs: always due again soon, they are no timed rule.
UPKEEP_KINDS = (RECONCILE_PAYMENTS, RECOVER_INBOX)


class ControlStore(StateStore, SideRecords, Protocol):
    def next_job_due(self, *, except_kinds: tuple[str, ...] = ()) -> float | None: ...

    def clear_business_data(self) -> int: ...


class ControlOperations:
    def __init__(self, store: ControlStore, clock: Clock) -> None:
        self.store = store
        self.clock = clock

    def next_due(self) -> float | None:
        """When the next timed rule falls due (the upkeep jobs do not count)."""
        return self.store.next_job_due(except_kinds=UPKEEP_KINDS)

    def arm_crash_point(self, point: str, count: int) -> dict[str, int]:
        """Raises ``ValueError`` for a point that does not exist."""
        return CrashPoints(self.store, self.clock).arm(point, count)

    def clear_records(self) -> int:
        """Every win, payment, order, event, job, mail, text and fraud signal (users and
        the service's settings stay); the rows deleted."""
        cleared = self.store.clear_business_data()
        cleared += self.store.text_messages.clear_outbox()
        cleared += self.store.fraud_signals.clear()
        return cleared
