"""At most three retries per win, reminders at +1 h, +6 h and +18 h inside the window, and
what the buyer reads when a payment fails."""

from __future__ import annotations

import pytest

from simulator.service.domain.auction import AuctionWin
from simulator.service.domain.payment_session import PaymentSession
from simulator.service.domain.retry import (
    GENERIC_DECLINE,
    Allowed,
    Refused,
    RetryPolicy,
    buyer_message,
    reminder_schedule,
)

ENDED = 1_740_830_400
CLOSES = ENDED + 86_400
HOUR = 3600
WIN = AuctionWin("win_1", 17, "Lamp", "sel_1", "usr_1", 64200, "usd", ENDED)
policy = RetryPolicy(max_retries=3)


def attempt(number: int, status: str = "failed", reached: bool = True) -> PaymentSession:
    return PaymentSession(
        id=f"ps_{number}", win_id="win_1", buyer_id="usr_1", attempt=number,
        status=status, idempotency_key=f"k{number}", expires_at=CLOSES,  # type: ignore[arg-type]
        window_ends_at=CLOSES, created_at=ENDED, updated_at=ENDED,
        checkout_session_id=f"cs_{number}" if reached else None)


def test_the_first_attempt_is_allowed() -> None:
    assert policy.decide(WIN, [], ENDED + 10) == Allowed(1)


def test_three_retries_after_the_first_attempt() -> None:
    sessions = [attempt(n) for n in (1, 2, 3)]
    assert policy.decide(WIN, sessions, ENDED + 10) == Allowed(4)
    refused = policy.decide(WIN, [*sessions, attempt(4)], ENDED + 10)
    assert isinstance(refused, Refused) and refused.code == "retries_exhausted"


def test_an_attempt_stripe_never_saw_does_not_count() -> None:
    sessions = [attempt(1), attempt(2, "canceled", reached=False), attempt(3), attempt(4)]
    assert policy.decide(WIN, sessions, ENDED + 10) == Allowed(5)
    assert (policy.attempts_used(sessions), policy.attempts_left(sessions)) == (3, 1)


@pytest.mark.parametrize(("sessions", "now", "code"), [
    ([attempt(1, "succeeded")], ENDED + 10, "already_paid"),
    ([attempt(1, "succeeded")], CLOSES + 10, "already_paid"),
    ([], CLOSES, "window_closed"),
    ([attempt(1)], CLOSES + 1, "window_closed"),
    ([attempt(1, "processing")], ENDED + 10, "payment_processing"),
])
def test_refusals_in_the_order_the_buyer_needs_them(
        sessions: list[PaymentSession], now: float, code: str) -> None:
    decision = policy.decide(WIN, sessions, now)
    assert isinstance(decision, Refused) and decision.code == code and decision.message


def test_a_second_before_the_window_closes_a_retry_is_allowed() -> None:
    assert policy.decide(WIN, [attempt(1)], CLOSES - 1) == Allowed(2)


def test_the_retry_limit_is_configurable() -> None:
    strict = RetryPolicy(max_retries=0)
    assert isinstance(strict.decide(WIN, [attempt(1)], ENDED), Refused)


# -- reminders ----------------------------------------------------------------------------------
def test_reminders_at_one_six_and_eighteen_hours() -> None:
    times = reminder_schedule(ENDED, CLOSES, paid=False, jitter_seconds=0, rng_seed="ps_1")
    assert times == [ENDED + HOUR, ENDED + 6 * HOUR, ENDED + 18 * HOUR]


def test_reminders_at_or_after_the_window_end_are_dropped() -> None:
    failed_at = CLOSES - 6 * HOUR
    times = reminder_schedule(failed_at, CLOSES, paid=False, jitter_seconds=0, rng_seed="x")
    assert times == [failed_at + HOUR]


def test_no_reminders_once_paid() -> None:
    assert reminder_schedule(ENDED, CLOSES, paid=True, jitter_seconds=0, rng_seed="x") == []


def test_jitter_only_delays_and_is_reproducible() -> None:
    first = reminder_schedule(ENDED, CLOSES, False, 300, "ps_1")
    assert first == reminder_schedule(ENDED, CLOSES, False, 300, "ps_1")
    assert first != reminder_schedule(ENDED, CLOSES, False, 300, "ps_2")
    for base, at in zip((HOUR, 6 * HOUR, 18 * HOUR), first, strict=True):
        assert 0 <= at - ENDED - base <= 300


# -- what the buyer reads -----------------------------------------------------------------------
@pytest.mark.parametrize(("code", "decline", "message"), [
    ("card_declined", "insufficient_funds",
     "Your card has insufficient funds. Try another card or contact your bank."),
    ("expired_card", None, "Your card has expired. Try another card."),
    ("incorrect_cvc", None, "The security code (CVC) was incorrect. Check it and try again."),
    ("processing_error", None,
     "An error occurred while processing your card. Try again in a moment."),
    ("card_declined", "generic_decline", GENERIC_DECLINE),
    ("card_declined", "fraudulent", GENERIC_DECLINE),
    (None, None, GENERIC_DECLINE),
])
def test_buyer_messages(code: str | None, decline: str | None, message: str) -> None:
    assert buyer_message(code, decline) == message


def test_authentication_and_expiry_messages() -> None:
    assert buyer_message("payment_intent_authentication_failure").startswith(
        "Your bank could not authenticate the payment")
    assert buyer_message("session_expired").startswith("Your payment session expired")
    assert buyer_message("canceled") == "The payment was canceled."
