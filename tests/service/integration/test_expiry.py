"""The 24-hour window: it closes on time on both sides, and nothing is paid after it."""

from __future__ import annotations

from integration_support import ALICE, Marketplace

DAY = 24 * 3600


def test_an_unpaid_win_expires_with_its_window(market: Marketplace) -> None:
    win = market.win(41, 64_200, ended_ago=60)
    started = market.start(win)
    assert started["window_ends_at"] == win.ended_at + DAY
    assert started["expires_at"] == win.ended_at + DAY  # Stripe's session ends with the window

    # Up to a minute before the end nothing happens; then across it, both clocks together.
    market.advance(DAY - 60 - 60)
    assert market.status(started["payment_session_id"])["status"] == "open"
    market.advance(61)

    status = market.status(started["payment_session_id"])
    assert status["status"] == "expired"
    assert (status["seconds_left"], status["attempts_left"]) == (0, 0)
    [order] = market.orders(win)
    assert order.status == "canceled"
    checkout = market.session(started["payment_session_id"]).checkout_session_id
    assert market.sandbox.sdk.v1.checkout.sessions.retrieve(str(checkout)).status == "expired"
    refused = market.client(ALICE).create_checkout(win.id)
    assert refused.status_code == 410
    assert refused.json()["error"]["code"] == "window_closed"
    assert market.inbox_failures() == []


def test_with_less_than_30_minutes_left_the_service_expires_the_session_itself(
        market: Marketplace) -> None:
    win = market.win(42, 10_000, ended_ago=DAY - 10 * 60)  # ten minutes left
    started = market.start(win)
    assert started["window_ends_at"] - market.clock.timestamp() <= 10 * 60
    assert started["expires_at"] > started["window_ends_at"]  # Stripe's 30-minute minimum

    market.advance(10 * 60 + 5)
    assert market.status(started["payment_session_id"])["status"] == "expired"
    checkout = market.session(started["payment_session_id"]).checkout_session_id
    assert market.sandbox.sdk.v1.checkout.sessions.retrieve(str(checkout)).status == "expired"
    [order] = market.orders(win)
    assert order.status == "canceled"


def test_a_window_that_closed_before_the_first_click(market: Marketplace) -> None:
    win = market.win(43, 10_000, ended_ago=DAY + 1)
    refused = market.client(ALICE).create_checkout(win.id)
    assert refused.status_code == 410
    assert refused.json()["error"]["message"] == ("The 24-hour payment window for this lot has"
                                                  " closed.")
    assert market.sandbox.checkout_sessions_for(win.id) == []
