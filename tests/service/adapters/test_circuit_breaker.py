"""The circuit breaker: its rules on a clock the test moves, then the gateway tripping it
against a sandbox that keeps answering 500."""

from __future__ import annotations

import pytest
from adapters_support import SESSIONS_PATH, GatewayFactory, Sandbox, checkout_params

from simulator.common.clock import Clock
from simulator.service.adapters.circuit_breaker import CircuitBreaker, StateChange
from simulator.service.adapters.errors import PaymentsUnavailable, StripeRejected


def _breaker(changes: list[StateChange] | None = None, threshold: int = 3
             ) -> tuple[CircuitBreaker, Clock]:
    clock = Clock()
    listener = changes.append if changes is not None else None
    return CircuitBreaker(failure_threshold=threshold, reset_seconds=60, clock=clock,
                          on_state_change=listener), clock


def _fail(breaker: CircuitBreaker, times: int) -> None:
    for _ in range(times):
        assert breaker.allow()
        breaker.record_failure()


# -- the rules -------------------------------------------------------------------------------
def test_opens_after_the_threshold_of_consecutive_failures() -> None:
    breaker, _ = _breaker()

    _fail(breaker, 2)
    assert breaker.state == "closed"
    _fail(breaker, 1)

    assert breaker.state == "open"
    assert breaker.allow() is False


def test_a_success_resets_the_count() -> None:
    breaker, _ = _breaker()
    _fail(breaker, 2)

    breaker.record_success()
    _fail(breaker, 2)

    assert (breaker.state, breaker.consecutive_failures) == ("closed", 2)


def test_after_the_reset_time_one_trial_goes_through_and_its_success_closes() -> None:
    changes: list[StateChange] = []
    breaker, clock = _breaker(changes)
    _fail(breaker, 3)

    clock.advance(59)
    assert breaker.allow() is False
    clock.advance(1)
    assert breaker.allow() is True
    assert breaker.allow() is False  # only one trial at a time
    breaker.record_success()

    assert breaker.state == "closed" and breaker.allow()
    assert [(c.previous, c.current) for c in changes] \
        == [("closed", "open"), ("open", "half_open"), ("half_open", "closed")]
    assert changes[0].consecutive_failures == 3


def test_a_failed_trial_opens_it_for_another_reset_time() -> None:
    breaker, clock = _breaker()
    _fail(breaker, 3)
    clock.advance(60)

    _fail(breaker, 1)

    assert breaker.state == "open"
    clock.advance(59)
    assert breaker.allow() is False
    clock.advance(1)
    assert breaker.allow() is True


def test_a_trial_that_never_reports_back_is_replaced_after_the_reset_time() -> None:
    breaker, clock = _breaker()
    _fail(breaker, 3)
    clock.advance(60)
    assert breaker.allow() is True  # this caller crashes and never reports

    clock.advance(60)

    assert breaker.allow() is True
    assert breaker.state == "half_open"


def test_a_failing_listener_does_not_break_the_breaker() -> None:
    def broken(change: StateChange) -> None:
        raise RuntimeError("alert sink down")

    breaker = CircuitBreaker(failure_threshold=1, reset_seconds=60, clock=Clock(),
                             on_state_change=broken)

    _fail(breaker, 1)

    assert breaker.state == "open"


def test_the_threshold_must_be_positive() -> None:
    with pytest.raises(ValueError, match="failure_threshold"):
        CircuitBreaker(failure_threshold=0, reset_seconds=60, clock=Clock())


# -- the gateway against a failing sandbox -----------------------------------------------------
def _remaining(sandbox: Sandbox) -> int:
    return sum(fault["remaining"] for fault in sandbox.faults())


def test_an_outage_opens_the_circuit_then_a_trial_closes_it(
        sandbox: Sandbox, make_gateway: GatewayFactory) -> None:
    under_test = make_gateway(stripe_max_attempts=4, circuit_failure_threshold=5,
                              circuit_reset_seconds=60)
    gateway = under_test.gateway
    sandbox.add_fault("POST", SESSIONS_PATH, "error", status=500, count=50)

    with pytest.raises(PaymentsUnavailable) as first:
        gateway.create_checkout_session(**checkout_params(sandbox))
    with pytest.raises(PaymentsUnavailable) as second:
        gateway.create_checkout_session(**checkout_params(sandbox))

    assert (first.value.reason, first.value.attempts) == ("retries_exhausted", 4)
    assert (second.value.reason, second.value.attempts) == ("circuit_open", 1)
    assert (gateway.breaker.state, _remaining(sandbox)) == ("open", 45)  # 5 requests made

    with pytest.raises(PaymentsUnavailable) as refused:
        gateway.create_checkout_session(**checkout_params(sandbox))
    assert (refused.value.reason, refused.value.attempts) == ("circuit_open", 0)
    assert _remaining(sandbox) == 45  # Stripe was not called

    sandbox.clear_faults()
    under_test.clock.advance(60)
    session = gateway.create_checkout_session(**checkout_params(sandbox))

    assert session.status == "open" and gateway.breaker.state == "closed"
    assert [(c.previous, c.current) for c in under_test.changes] \
        == [("closed", "open"), ("open", "half_open"), ("half_open", "closed")]


def test_a_failed_trial_reopens_without_retrying(sandbox: Sandbox,
                                                  make_gateway: GatewayFactory) -> None:
    under_test = make_gateway(stripe_max_attempts=4, circuit_failure_threshold=2)
    sandbox.add_fault("POST", SESSIONS_PATH, "error", status=500, count=50)
    with pytest.raises(PaymentsUnavailable):
        under_test.gateway.create_checkout_session(**checkout_params(sandbox))
    under_test.clock.advance(60)

    with pytest.raises(PaymentsUnavailable) as trial:
        under_test.gateway.create_checkout_session(**checkout_params(sandbox))

    assert (trial.value.reason, trial.value.attempts) == ("circuit_open", 1)
    assert (under_test.gateway.breaker.state, _remaining(sandbox)) == ("open", 47)


def test_refused_requests_do_not_count_as_failures(sandbox: Sandbox,
                                                   make_gateway: GatewayFactory) -> None:
    under_test = make_gateway(circuit_failure_threshold=2)

    for _ in range(3):
        with pytest.raises(StripeRejected, match="30 minutes"):
            under_test.gateway.create_checkout_session(
                **checkout_params(sandbox, expires_at=sandbox.now() + 60))

    assert under_test.gateway.breaker.state == "closed"
    assert under_test.changes == []
