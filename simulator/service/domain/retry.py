"""Whether a buyer may try to pay again, when to remind them, and what to tell them.

A win allows ``1 + max_retries`` attempts that reached Stripe (a Checkout Session was
made for them); reminders follow a failure at +1 h, +6 h and +18 h, never at or after
the window's end.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from simulator.service.domain.auction import AuctionWin
from simulator.service.domain.payment_session import PaymentSession
from simulator.service.domain.window import HOUR, PaymentWindow

REFUSALS = {
    "already_paid": "This lot has already been paid for.",
    "window_closed": "The 24-hour payment window for this lot has closed.",
    "retries_exhausted": "You have used every payment attempt for this lot. Please contact"
                         " support if you still want to buy it.",
    "payment_processing": "Your payment is being processed. We will email you when it"
                          " completes.",
}


@dataclass(frozen=True)
class Allowed:
    attempt: int


@dataclass(frozen=True)
class Refused:
    code: str
    message: str


def refused(code: str) -> Refused:
    return Refused(code, REFUSALS[code])


@dataclass(frozen=True)
class RetryPolicy:
    max_retries: int = 3
    window_hours: int = 24

    @property
    def max_attempts(self) -> int:
        return 1 + self.max_retries

    def attempts_used(self, sessions: Sequence[PaymentSession]) -> int:
        return sum(1 for session in sessions if session.reached_stripe)

    def attempts_left(self, sessions: Sequence[PaymentSession]) -> int:
        return max(0, self.max_attempts - self.attempts_used(sessions))

    def decide(self, win: AuctionWin, sessions: Sequence[PaymentSession],
               now: float) -> Allowed | Refused:
        """May the buyer start a new attempt now? The order of the checks is the order
        of what the buyer most needs to hear."""
        if any(session.status == "succeeded" for session in sessions):
            return refused("already_paid")
        if not PaymentWindow(win.ended_at, self.window_hours).is_open(now):
            return refused("window_closed")
        if any(session.status == "processing" for session in sessions):
            return refused("payment_processing")
        if self.attempts_used(sessions) >= self.max_attempts:
            return refused("retries_exhausted")
        return Allowed(max((session.attempt for session in sessions), default=0) + 1)


def reminder_schedule(failed_at: int, window_end: int, paid: bool, jitter_seconds: int,
                      rng_seed: str, hours: Sequence[int] = (1, 6, 18)) -> list[int]:
    """The reminder times after a failure. Jitter only ever delays (so the first reminder
    is never sooner than an hour) and is derived from ``rng_seed``, so a schedule is
    reproducible and reminders for many buyers do not all fire in the same second."""
    if paid:
        return []
    times = [failed_at + hour * HOUR + _jitter(rng_seed, hour, jitter_seconds)
             for hour in hours]
    return [at for at in times if at < window_end]


def _jitter(seed: str, hour: int, jitter_seconds: int) -> int:
    if jitter_seconds <= 0:
        return 0
    digest = hashlib.sha256(f"{seed}:{hour}".encode()).digest()
    return int.from_bytes(digest[:4], "big") % (jitter_seconds + 1)


# What the buyer reads, by Stripe's decline_code first, then the error code
# (https://docs.stripe.com/declines/codes, https://docs.stripe.com/error-codes).
BUYER_MESSAGES = {
    "insufficient_funds": "Your card has insufficient funds. Try another card or contact"
                          " your bank.",
    "expired_card": "Your card has expired. Try another card.",
    "incorrect_cvc": "The security code (CVC) was incorrect. Check it and try again.",
    "incorrect_number": "The card number was incorrect. Check it or try another card.",
    "processing_error": "An error occurred while processing your card. Try again in a"
                        " moment.",
    "lost_card": "Your card was declined. Try another card or contact your bank.",
    "stolen_card": "Your card was declined. Try another card or contact your bank.",
    "card_velocity_exceeded": "Your card has reached its spending limit. Try another card"
                              " or contact your bank.",
    "payment_intent_authentication_failure": "Your bank could not authenticate the"
        " payment. Try again and complete the bank's check, or use another card.",
    "authentication_required": "Your bank could not authenticate the payment. Try again"
                               " and complete the bank's check, or use another card.",
    "session_expired": "Your payment session expired before the payment was completed."
                       " Start a new payment while the window is open.",
    "window_closed": "Your payment session expired: the 24-hour payment window has"
                     " closed.",
    "canceled": "The payment was canceled.",
}
GENERIC_DECLINE = "Your card was declined. Try another card or contact your bank."


def buyer_message(failure_code: str | None, decline_code: str | None = None) -> str:
    """A message a buyer can act on; never the issuer's raw reason for fraud declines."""
    for code in (decline_code, failure_code):
        if code and code in BUYER_MESSAGES:
            return BUYER_MESSAGES[code]
    return GENERIC_DECLINE
