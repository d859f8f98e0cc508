"""Retry profiles: when a failed webhook delivery is attempted again.

Stripe documents (https://docs.stripe.com/webhooks#retries) that in live mode it keeps
retrying a delivery "for up to three days with an exponential back off", and that in a
sandbox (test mode) it "retries three times over a few hours". The exact spacing is not
published; the delays below follow that description. Every delay is measured on the
sandbox clock, so ``POST /_sandbox/clock/advance`` replays three days of retries at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

ProfileName = Literal["test", "live", "fast"]
MINUTE = 60.0
HOUR = 60 * MINUTE
DAY = 24 * HOUR


@dataclass(frozen=True)
class RetryPolicy:
    """Delays (seconds) after the 1st, 2nd, … failed attempt.

    With ``repeat_until`` the last delay repeats while the next attempt still falls
    within that many seconds of the delivery's creation (Stripe's three-day window).
    """

    name: ProfileName
    delays: tuple[float, ...]
    repeat_until: float | None = None

    def delay_after(self, failed_attempts: int, age: float) -> float | None:
        """Seconds until the next attempt, or ``None`` when the delivery has failed for good.

        ``failed_attempts`` counts attempts made so far (all failed); ``age`` is how long
        ago (sandbox seconds) the delivery was queued.
        """
        index = failed_attempts - 1
        if index < 0:
            return 0.0
        if index < len(self.delays):
            delay = self.delays[index]
        elif self.repeat_until is not None:
            delay = self.delays[-1]
        else:
            return None
        if self.repeat_until is not None and age + delay > self.repeat_until:
            return None
        return delay

    def max_attempts(self) -> int | None:
        """The number of attempts before giving up, when it does not depend on timing."""
        return None if self.repeat_until is not None else len(self.delays) + 1


PROFILES: dict[str, RetryPolicy] = {
    # Sandbox accounts: "three times over a few hours" (4 attempts in about 3 h).
    "test": RetryPolicy("test", (5 * MINUTE, 1 * HOUR, 2 * HOUR)),
    # Live mode: exponential back-off, then every 10 h until three days have passed.
    "live": RetryPolicy(
        "live", (1 * MINUTE, 5 * MINUTE, 30 * MINUTE, 2 * HOUR, 5 * HOUR, 10 * HOUR), 3 * DAY
    ),
    # Not Stripe's: seconds instead of hours, for demos and tests.
    "fast": RetryPolicy("fast", (1.0, 2.0, 4.0, 8.0, 16.0)),
}
DEFAULT_PROFILE: ProfileName = "test"


def next_attempt_at(
    retry: RetryPolicy, attempt: int, created: float, due_at: float, now: float
) -> float | None:
    """When to try again after failed attempt number ``attempt``, or ``None`` to give up.

    Normally ``delay`` after this attempt. When the sandbox clock jumped past the next
    retry too (``POST /_sandbox/clock/advance``), the retry is anchored on when this
    attempt was due, so that one drain walks through every retry the jump skipped.
    """
    delay = retry.delay_after(attempt, due_at - created)
    if delay is None:
        return None
    return due_at + delay if due_at + delay <= now else now + delay


def policy(name: str | None) -> RetryPolicy:
    """The named profile (``test`` when unnamed); ``KeyError`` for an unknown name."""
    return PROFILES[name or DEFAULT_PROFILE]
