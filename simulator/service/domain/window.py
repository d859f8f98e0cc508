"""The 24-hour payment window that opens when an auction ends.

A Checkout Session's ``expires_at`` must lie between 30 minutes and 24 hours after the
session's creation (https://docs.stripe.com/api/checkout/sessions/create#create_checkout_session-expires_at).
So the session normally expires with the window; when less than 30 minutes remain it is
created with the 30-minute minimum and the service expires it itself at the window's end
(https://docs.stripe.com/api/checkout/sessions/expire).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

HOUR = 3600
STRIPE_MIN_LIFETIME = 30 * 60
STRIPE_MAX_LIFETIME = 24 * HOUR
# Our clock and Stripe's creation time differ by the request's latency: ask for a little
# more than the minimum so Stripe never sees less than 30 minutes.
MIN_LIFETIME_MARGIN = 60


@dataclass(frozen=True)
class PaymentWindow:
    ended_at: int
    hours: int = 24

    @property
    def closes_at(self) -> int:
        return self.ended_at + self.hours * HOUR

    def is_open(self, now: float) -> bool:
        """Open up to, not including, the closing second."""
        return now < self.closes_at

    def seconds_left(self, now: float) -> int:
        return max(0, math.ceil(self.closes_at - now))

    def checkout_expires_at(self, now: float) -> int:
        """``expires_at`` for a Checkout Session created at ``now``."""
        if self.closes_at - now < STRIPE_MIN_LIFETIME + MIN_LIFETIME_MARGIN:
            return math.ceil(now) + STRIPE_MIN_LIFETIME + MIN_LIFETIME_MARGIN
        return min(self.closes_at, math.floor(now) + STRIPE_MAX_LIFETIME)

    def service_must_expire(self, now: float) -> bool:
        """True when Stripe would keep the session open past the window's end."""
        return self.checkout_expires_at(now) > self.closes_at
