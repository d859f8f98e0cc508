"""Crash points for fault tests (test mode only): a process that reaches an armed point
kills itself with SIGKILL, exactly as a crash there would, so a test can prove that
nothing is lost or doubled when the service dies half-way through its work.

Armed through ``POST /_test/faults`` and kept in the database, so whichever worker
reaches the point first dies. Never armed outside test mode.
"""

from __future__ import annotations

import os
import signal

from simulator.common.clock import Clock
from simulator.service.domain.stores import StateStore
from simulator.service.payments.context import log

STATE_KEY = "crash_points"
# Where a test may ask the service to die, in the order a delivery reaches them.
POINTS = ("webhook_claimed", "payment_committed", "webhook_handled")


class CrashPoints:
    def __init__(self, repo: StateStore, clock: Clock) -> None:
        self.repo = repo
        self.clock = clock

    def arm(self, point: str, count: int = 1) -> dict[str, int]:
        if point not in POINTS:
            raise ValueError(f"unknown crash point {point!r}; one of {', '.join(POINTS)}")
        with self.repo.transaction():
            armed = dict(self.repo.get_state(STATE_KEY) or {})
            armed[point] = count
            self.repo.set_state(STATE_KEY, armed, self.clock.timestamp())
        return armed

    def armed(self) -> dict[str, int]:
        return dict(self.repo.get_state(STATE_KEY) or {})

    def __call__(self, point: str) -> None:
        if not self.armed().get(point):
            return
        with self.repo.transaction():
            armed = dict(self.repo.get_state(STATE_KEY) or {})
            if not armed.get(point):
                return
            armed[point] -= 1
            self.repo.set_state(STATE_KEY, armed, self.clock.timestamp())
        log.warning("crash point %s reached: this process dies now (SIGKILL)", point)
        os.kill(os.getpid(), signal.SIGKILL)


def no_crash(point: str) -> None:
    """Outside test mode: nothing is ever armed."""
