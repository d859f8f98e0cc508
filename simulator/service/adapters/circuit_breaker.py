"""A circuit breaker around calls to Stripe.

``closed``: calls go through; ``failure_threshold`` failures in a row open it.
``open``: calls are refused at once, without touching the network, for
``reset_seconds`` on the clock. ``half_open``: then one trial call is let through; its
success closes the circuit, its failure opens it again for another ``reset_seconds``.

The state lives in memory, per process: with several worker processes each one trips on
its own, so an outage costs at most ``failure_threshold`` failed requests per process.
Transitions are logged and passed to ``on_state_change`` (the service raises an alert).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from simulator.common.clock import Clock

log = logging.getLogger("simulator.service.circuit_breaker")

State = Literal["closed", "open", "half_open"]


@dataclass(frozen=True)
class StateChange:
    name: str
    previous: State
    current: State
    at: float
    consecutive_failures: int


StateListener = Callable[[StateChange], None]


class CircuitBreaker:
    def __init__(self, *, failure_threshold: int, reset_seconds: float, clock: Clock,
                 name: str = "stripe", on_state_change: StateListener | None = None) -> None:
        if failure_threshold < 1:
            raise ValueError("failure_threshold must be at least 1")
        self.name = name
        self.failure_threshold = failure_threshold
        self.reset_seconds = reset_seconds
        self.clock = clock
        self.on_state_change = on_state_change
        self._lock = threading.Lock()
        self._state: State = "closed"
        self._failures = 0
        self._opened_at = 0.0
        self._trial_started_at: float | None = None

    @property
    def state(self) -> State:
        return self._state

    @property
    def consecutive_failures(self) -> int:
        return self._failures

    def allow(self) -> bool:
        """Whether a call may go out now. Once ``reset_seconds`` have passed since the
        circuit opened, exactly one caller gets a trial; the others are refused until it
        reports back (or, should it never report, until another ``reset_seconds``)."""
        with self._lock:
            now = self.clock.now()
            if self._state == "closed":
                return True
            if self._state == "open":
                if now < self._opened_at + self.reset_seconds:
                    return False
                change = self._move("half_open", now)
            else:
                trial = self._trial_started_at
                if trial is not None and now < trial + self.reset_seconds:
                    return False
                change = None
            self._trial_started_at = now
        self._announce(change)
        return True

    def record_success(self) -> None:
        """Stripe answered (a 2xx, or a 4xx: a refused request is not an outage)."""
        with self._lock:
            self._failures = 0
            self._trial_started_at = None
            change = self._move("closed", self.clock.now()) if self._state != "closed" else None
        self._announce(change)

    def record_failure(self) -> None:
        """Stripe could not be reached, or answered a 409, 429 or 5xx."""
        with self._lock:
            now = self.clock.now()
            self._failures += 1
            self._trial_started_at = None
            change = None
            tripped = self._state == "closed" and self._failures >= self.failure_threshold
            if tripped or self._state == "half_open":
                change = self._move("open", now)
                self._opened_at = now
            elif self._state == "open":
                self._opened_at = now  # a straggler from before it opened: wait afresh
        self._announce(change)

    def _move(self, state: State, now: float) -> StateChange:
        change = StateChange(self.name, self._state, state, now, self._failures)
        self._state = state
        return change

    def _announce(self, change: StateChange | None) -> None:
        if change is None:
            return
        level = logging.WARNING if change.current == "open" else logging.INFO
        log.log(level, "circuit %s: %s -> %s after %d consecutive failures", change.name,
                change.previous, change.current, change.consecutive_failures)
        if self.on_state_change is None:
            return
        try:
            self.on_state_change(change)
        except Exception:  # an alert sink that fails must not break payments
            log.exception("circuit %s: state change listener failed", change.name)
