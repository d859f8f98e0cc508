"""Retries: injected 5xx, 429, dropped connections and timeouts against a running
sandbox, with the backoff's sleeps recorded; then the backoff and classification rules
on their own."""

from __future__ import annotations

import time

import pytest
import stripe
from adapters_support import SESSIONS_PATH, GatewayFactory, Sandbox, checkout_params

from simulator.service.adapters.errors import PaymentsUnavailable
from simulator.service.adapters.stripe_gateway import (
    _classify,
    backoff_delay,
    full_jitter,
)

UNAVAILABLE = "Payments are temporarily unavailable, please try again in a minute"


def test_two_server_errors_then_success_on_the_third_attempt(
        sandbox: Sandbox, make_gateway: GatewayFactory) -> None:
    under_test = make_gateway()
    sandbox.add_fault("POST", SESSIONS_PATH, "error", status=500, count=2)
    params = checkout_params(sandbox)

    session = under_test.gateway.create_checkout_session(**params)

    assert under_test.sleep.delays == [0.25, 0.5]  # 2 backoffs: the 3rd attempt succeeded
    assert sandbox.faults() == []
    assert [s.id for s in sandbox.sessions_tagged(params["metadata"]["test_marker"])] \
        == [session.id]
    assert under_test.gateway.breaker.state == "closed"


def test_a_rate_limit_waits_for_retry_after(sandbox: Sandbox, make_gateway: GatewayFactory
                                            ) -> None:
    under_test = make_gateway(real_sleep=True)
    sandbox.add_fault("POST", SESSIONS_PATH, "rate_limit", retry_after=1, count=1)
    started = time.monotonic()

    session = under_test.gateway.create_checkout_session(**checkout_params(sandbox))

    assert session.status == "open"
    assert under_test.sleep.delays == [1.0]  # Retry-After, not the 0.25 s backoff
    assert 1.0 <= time.monotonic() - started < 5.0


def test_a_dropped_connection_is_retried_with_the_same_key(
        sandbox: Sandbox, make_gateway: GatewayFactory) -> None:
    under_test = make_gateway()
    sandbox.add_fault("POST", SESSIONS_PATH, "drop", count=1)
    params = checkout_params(sandbox)

    session = under_test.gateway.create_checkout_session(**params)

    assert under_test.sleep.delays == [0.25]
    assert [s.id for s in sandbox.sessions_tagged(params["metadata"]["test_marker"])] \
        == [session.id]


def test_a_lost_answer_never_makes_a_second_session(sandbox: Sandbox,
                                                    make_gateway: GatewayFactory) -> None:
    """The first attempt times out while the sandbox goes on to create the session; the
    retries with the same key get 409 while it is in flight, then its replay."""
    under_test = make_gateway(real_sleep=True, stripe_timeout_seconds=0.5,
                              stripe_max_attempts=6)
    sandbox.add_fault("POST", SESSIONS_PATH, "delay_after_claim", delay_ms=1500, count=1)
    params = checkout_params(sandbox)

    session = under_test.gateway.create_checkout_session(**params)

    assert len(under_test.sleep.delays) >= 2  # a timeout, then at least one 409
    assert [s.id for s in sandbox.sessions_tagged(params["metadata"]["test_marker"])] \
        == [session.id]


def test_a_slow_read_times_out_and_is_retried(sandbox: Sandbox, make_gateway: GatewayFactory
                                              ) -> None:
    under_test = make_gateway(stripe_timeout_seconds=0.5)
    created = under_test.gateway.create_checkout_session(**checkout_params(sandbox))
    sandbox.add_fault("GET", f"{SESSIONS_PATH}/*", "delay", delay_ms=1500, count=1)
    started = time.monotonic()

    assert under_test.gateway.retrieve_checkout_session(created.id) == created

    assert under_test.sleep.delays == [0.25]
    assert 0.5 <= time.monotonic() - started < 1.5


def test_every_attempt_failing_makes_payments_unavailable(
        sandbox: Sandbox, make_gateway: GatewayFactory) -> None:
    under_test = make_gateway(stripe_max_attempts=4)
    sandbox.add_fault("POST", SESSIONS_PATH, "error", status=503, count=4)

    with pytest.raises(PaymentsUnavailable) as raised:
        under_test.gateway.create_checkout_session(**checkout_params(sandbox))

    error = raised.value
    assert (str(error), error.code, error.http_status) == (UNAVAILABLE, "payments_unavailable",
                                                           503)
    assert (error.reason, error.attempts) == ("retries_exhausted", 4)
    assert under_test.sleep.delays == [0.25, 0.5, 1.0]
    assert sandbox.faults() == []
    assert under_test.gateway.breaker.state == "closed"  # 4 failures < threshold of 5


# -- the rules on their own -------------------------------------------------------------------
def test_backoff_doubles_from_a_quarter_second_up_to_eight() -> None:
    ceilings = [backoff_delay(n, jitter=lambda ceiling: ceiling) for n in range(1, 9)]

    assert ceilings == [0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 8.0, 8.0]


def test_full_jitter_stays_between_zero_and_the_ceiling() -> None:
    delays = [full_jitter(2.0) for _ in range(200)]

    assert all(0.0 <= d <= 2.0 for d in delays)
    assert len(set(delays)) > 150


def test_retry_after_is_a_floor_and_is_capped() -> None:
    no_jitter = {"jitter": lambda ceiling: 0.0}

    assert backoff_delay(1, retry_after=3, **no_jitter) == 3.0
    assert backoff_delay(1, retry_after=120, **no_jitter) == 8.0
    assert backoff_delay(5, retry_after=1, jitter=lambda ceiling: ceiling) == 4.0


@pytest.mark.parametrize(("error", "retry", "outage"), [
    (stripe.APIConnectionError("timed out", should_retry=True), True, True),
    (stripe.APIConnectionError("bad certificate", should_retry=False), False, True),
    (stripe.APIError("in flight", http_status=409), True, False),
    (stripe.RateLimitError("slow down", http_status=429, headers={"Retry-After": "2"}), True,
     True),
    (stripe.APIError("boom", http_status=500), True, True),
    (stripe.APIError("boom", http_status=500, headers={"Stripe-Should-Retry": "false"}),
     False, True),
    (stripe.InvalidRequestError("locked", None, http_status=400,
                                headers={"stripe-should-retry": "true"}), True, True),
])
def test_transient_failures(error: stripe.StripeError, retry: bool, outage: bool) -> None:
    failure = _classify(error)

    assert not isinstance(failure, Exception)
    assert (failure.retry, failure.outage) == (retry, outage)


def test_retry_after_is_read_from_a_rate_limit() -> None:
    failure = _classify(stripe.RateLimitError("slow", http_status=429,
                                              headers={"retry-after": "2"}))

    assert not isinstance(failure, Exception) and failure.retry_after == 2.0


@pytest.mark.parametrize("error", [
    stripe.InvalidRequestError("bad", "amount", code="parameter_invalid_integer",
                               http_status=400),
    stripe.AuthenticationError("bad key", http_status=401),
    stripe.CardError("declined", None, "card_declined", http_status=402),
    stripe.PermissionError("nope", http_status=403),
    stripe.InvalidRequestError("missing", "id", code="resource_missing", http_status=404),
])
def test_other_client_errors_are_rejections(error: stripe.StripeError) -> None:
    assert isinstance(_classify(error), Exception)
