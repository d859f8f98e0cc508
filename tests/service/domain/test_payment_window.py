"""The 24-hour window, enforced to the second, and the Checkout Session's expiry inside
Stripe's 30-minute to 24-hour range."""

from __future__ import annotations

import pytest
from freezegun import freeze_time

from simulator.common.clock import Clock
from simulator.service.domain.window import PaymentWindow

ENDED = 1_740_830_400  # 2025-03-01 12:00:00 UTC
CLOSES = ENDED + 24 * 3600
window = PaymentWindow(ENDED)


def test_the_window_closes_24_hours_after_the_auction_ended() -> None:
    assert window.closes_at == CLOSES
    assert PaymentWindow(ENDED, hours=48).closes_at == ENDED + 48 * 3600


@pytest.mark.parametrize(("at", "open_"), [
    ("2025-03-01 12:00:00", True),
    ("2025-03-02 11:59:59", True),
    ("2025-03-02 11:59:59.999", True),
    ("2025-03-02 12:00:00", False),
    ("2025-03-02 12:00:01", False),
])
def test_open_up_to_the_closing_second(at: str, open_: bool) -> None:
    with freeze_time(at):
        assert window.is_open(Clock().now()) is open_


def test_seconds_left() -> None:
    assert window.seconds_left(ENDED) == 86_400
    assert window.seconds_left(CLOSES - 1) == 1
    assert window.seconds_left(CLOSES - 0.4) == 1
    assert window.seconds_left(CLOSES) == 0
    assert window.seconds_left(CLOSES + 3600) == 0


def test_a_session_made_early_expires_with_the_window() -> None:
    assert window.checkout_expires_at(ENDED + 60) == CLOSES
    assert window.checkout_expires_at(CLOSES - 31 * 60) == CLOSES
    assert not window.service_must_expire(ENDED + 60)


def test_a_session_made_as_the_auction_ends_stays_within_24_hours() -> None:
    assert window.checkout_expires_at(ENDED + 0.5) == CLOSES
    assert window.checkout_expires_at(ENDED + 0.5) - (ENDED + 0.5) <= 24 * 3600


def test_a_longer_window_is_capped_by_stripes_24_hours() -> None:
    long = PaymentWindow(ENDED, hours=48)
    assert long.checkout_expires_at(ENDED + 10) == ENDED + 10 + 24 * 3600


@pytest.mark.parametrize("left", [30 * 60, 20 * 60, 60, 1])
def test_with_under_half_an_hour_left_stripe_gets_its_minimum(left: int) -> None:
    now = CLOSES - left
    expires = window.checkout_expires_at(now)
    assert expires - now >= 30 * 60
    assert expires == now + 31 * 60
    assert window.service_must_expire(now)
