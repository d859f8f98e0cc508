"""Alert rules evaluated over a window of recent outcomes (the other alerts are raised
where their cause happens: a handler failure, a held payment, the circuit opening)."""

from __future__ import annotations

from dataclasses import dataclass

from simulator.service.domain.alerts import Alert


@dataclass(frozen=True)
class FailureRateRule:
    """Too many payments failing: a bank outage, a broken checkout, or card testing.
    Fires when failures are over ``threshold`` of the payments that ended in the window,
    once at least ``min_payments`` did (one decline out of one is not an incident)."""

    threshold: float = 0.5
    window_seconds: int = 900
    min_payments: int = 10

    def breached(self, failed: int, succeeded: int) -> bool:
        ended = failed + succeeded
        return ended >= self.min_payments and failed > self.threshold * ended

    def alert(self, failed: int, succeeded: int, at: int) -> Alert | None:
        if not self.breached(failed, succeeded):
            return None
        ended = failed + succeeded
        return Alert("payment_failure_rate", "critical",
                     f"{failed} of {ended} payments failed in the last"
                     f" {self.window_seconds // 60} minutes ({failed / ended:.0%}, over the"
                     f" {self.threshold:.0%} threshold).", at, subject_id="payments")
