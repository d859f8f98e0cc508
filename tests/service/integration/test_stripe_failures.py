"""Stripe failing: retries with backoff, then the circuit breaker answers 503 at once."""

from __future__ import annotations

from integration_support import ALICE, Marketplace

CREATE = "/v1/checkout/sessions"


def test_a_few_500s_are_retried_with_backoff_and_the_buyer_never_notices(
        market: Marketplace) -> None:
    win = market.win(71, 5_000)
    market.sandbox.fault(path=CREATE, status=500, count=2)
    answer = market.client(ALICE).create_checkout(win.id)
    assert answer.status_code == 201, answer.text
    assert len(market.sleeps) == 2  # two backoffs before the third attempt
    assert len(market.sandbox.checkout_sessions_for(win.id)) == 1


def test_a_429_is_retried_after_its_retry_after(market: Marketplace) -> None:
    win = market.win(72, 5_000)
    market.sandbox.fault(path=CREATE, action="rate_limit", retry_after=2, count=1)
    answer = market.client(ALICE).create_checkout(win.id)
    assert answer.status_code == 201, answer.text
    assert market.sleeps and market.sleeps[0] >= 2


def test_stripe_down_gives_503_then_the_circuit_opens(market: Marketplace) -> None:
    win = market.win(73, 5_000)
    market.sandbox.fault(path=CREATE, status=500, count=100)
    client = market.client(ALICE)

    first = client.create_checkout(win.id)  # four attempts, all failing
    assert first.status_code == 503
    assert first.headers["Retry-After"] == "60"
    assert first.json()["error"] == {
        "code": "payments_unavailable",
        "message": "Payments are temporarily unavailable, please try again in a minute"}
    second = client.create_checkout(win.id)  # the fifth failure opens the circuit
    assert second.status_code == 503
    left = market.sandbox.faults()[0]["remaining"]

    third = client.create_checkout(win.id)
    assert third.status_code == 503
    assert market.sandbox.faults()[0]["remaining"] == left  # Stripe was not even called
    assert "circuit_open" in [alert.kind for alert in market.repo.list_alerts()]

    market.sandbox.clear_faults()
    market.client().advance_clock(61)  # half-open after circuit_reset_seconds
    recovered = client.create_checkout(win.id)
    assert recovered.status_code in (200, 201), recovered.text
    assert len(market.sandbox.checkout_sessions_for(win.id)) == 1  # same idempotency key
