"""Stripe failures: Stripe answering 5xx or 429 for a while (retried with backoff, the
buyer never notices), or failing for good (the circuit breaker opens, the buyer is told
to come back in a minute, Stripe is left alone), then recovering.

Failures are the sandbox's fault injection on ``POST /v1/checkout/sessions``; what the
service did about them is read from its log, its alerts and Stripe's side.
https://docs.stripe.com/error-low-level#server-errors, https://docs.stripe.com/rate-limits
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from pytest_bdd import given, parsers, then, when

from harness.marketplace import Marketplace, WonLot
from harness.pages.service import ServicePages
from harness.sandbox import SandboxHandle

CREATE_CHECKOUT = "/v1/checkout/sessions"
OUTAGE = 10_000  # failures injected for "Stripe is failing": more than any scenario uses
MAX_PRESSES = 10  # presses on Pay before the circuit must have opened (2 workers x 2)
RETRY_LINE = re.compile(r"create checkout session: attempt (\d+)/\d+ failed \((.*)\);"
                        r" retrying in ([\d.]+) s")


@dataclass(frozen=True)
class Retry:
    """One backoff the service logged: the failed attempt, why, and the wait."""

    attempt: int
    failure: str
    delay: float


@dataclass
class ServiceLog:
    """The service's log from the moment a scenario started watching it."""

    path: Path
    start: int

    @classmethod
    def of(cls, marketplace: Marketplace) -> ServiceLog:
        assert marketplace.server is not None
        path = Path(marketplace.server.log_path)
        return cls(path, path.stat().st_size if path.exists() else 0)

    def text(self) -> str:
        with self.path.open("rb") as log:
            log.seek(self.start)
            return log.read().decode("utf-8", "replace")

    def retries(self) -> list[Retry]:
        return [Retry(int(attempt), failure, float(delay))
                for attempt, failure, delay in RETRY_LINE.findall(self.text())]


def sandbox_of(marketplace: Marketplace) -> SandboxHandle:
    assert marketplace.sandbox is not None, "this step needs the sandbox (@sandbox_only)"
    return marketplace.sandbox


def faults_left(sandbox: SandboxHandle) -> int:
    answer = sandbox.control("GET", "/faults")
    answer.raise_for_status()
    return sum(int(f["remaining"]) for f in answer.json()["faults"])


def press_pay(pages: ServicePages, won: WonLot) -> None:
    """From "My winnings", press Pay once: Stripe's page, or an error page."""
    pages.winnings.open()
    pages.winnings.pay(won.lot.number)


def press_until_circuit_opens(pages: ServicePages, marketplace: Marketplace,
                              won: WonLot) -> None:
    """Each press makes up to four attempts in one worker; the fifth failure in a row
    opens that worker's breaker, and the next press it serves is refused at once."""
    for _ in range(MAX_PRESSES):
        press_pay(pages, won)
        if marketplace.alerts("circuit_open"):
            return
    raise AssertionError(f"the circuit did not open after {MAX_PRESSES} presses on Pay")


# == fixtures ===============================================================================
@pytest.fixture
def service_log(marketplace: Marketplace) -> ServiceLog:
    return ServiceLog.of(marketplace)


@pytest.fixture
def stripe_outage(marketplace: Marketplace) -> Iterator[SandboxHandle]:
    """Stripe failing every create until the scenario ends. The breakers live in the
    service's worker processes and survive the per-scenario reset, so the service is
    restarted afterwards: the next scenario must not meet a circuit left open here."""
    sandbox = sandbox_of(marketplace)
    sandbox.fault(path=CREATE_CHECKOUT, status=500, count=OUTAGE)
    yield sandbox
    sandbox.clear_faults()
    marketplace.crash_and_restart()  # a graceful stop waits on the browser's keep-alives


# == Stripe misbehaving =====================================================================
@given(parsers.parse("Stripe answers the next {count:d} requests to start a payment with"
                     " a server error"))
def stripe_answers_500(marketplace: Marketplace, service_log: ServiceLog, count: int) -> None:
    sandbox_of(marketplace).fault(path=CREATE_CHECKOUT, status=500, count=count)


@given(parsers.parse("Stripe rate-limits the next request to start a payment, asking to"
                     " wait {seconds:d} seconds"))
def stripe_rate_limits(marketplace: Marketplace, service_log: ServiceLog,
                       seconds: int) -> None:
    sandbox_of(marketplace).fault(path=CREATE_CHECKOUT, action="rate_limit", count=1,
                                  retry_after=seconds)


@given("Stripe is failing every request to start a payment")
def stripe_is_failing(stripe_outage: SandboxHandle) -> None:
    assert faults_left(stripe_outage) == OUTAGE


@given("Stripe has been failing until the circuit opened")
def stripe_failed_until_circuit_opened(stripe_outage: SandboxHandle, pages: ServicePages,
                                       marketplace: Marketplace, won: WonLot) -> None:
    press_until_circuit_opens(pages, marketplace, won)
    pages.winnings.open()  # told to come back later, the buyer goes back to the winnings


@when("Stripe recovers")
def stripe_recovers(marketplace: Marketplace) -> None:
    sandbox_of(marketplace).clear_faults()


# == the buyer ==============================================================================
@when("the buyer keeps pressing Pay")
def buyer_keeps_pressing(pages: ServicePages, marketplace: Marketplace, won: WonLot) -> None:
    press_until_circuit_opens(pages, marketplace, won)


# == outcomes ===============================================================================
@then("the admins are alerted that Stripe is failing")
def admins_alerted(marketplace: Marketplace) -> None:
    alerts = marketplace.alerts("circuit_open")
    assert [a.severity for a in alerts] == ["critical"], alerts


@then("the marketplace stops calling Stripe while the circuit is open")
def stripe_left_alone(pages: ServicePages, marketplace: Marketplace, won: WonLot) -> None:
    """A press served by a worker whose circuit is open never reaches Stripe: the
    injected failures are not used up, and the buyer is still told to come back."""
    sandbox = sandbox_of(marketplace)
    for _ in range(MAX_PRESSES):
        before = faults_left(sandbox)
        press_pay(pages, won)
        assert pages.winnings.error()[0] == "payments_unavailable"
        if faults_left(sandbox) == before:
            return
    raise AssertionError("every press on Pay still called Stripe")


@then(parsers.parse("Stripe's {count:d} failures were retried and one Checkout Session"
                    " was created"))
def failures_retried(marketplace: Marketplace, won: WonLot, service_log: ServiceLog,
                     count: int) -> None:
    retries = service_log.retries()
    assert [r.attempt for r in retries] == list(range(1, count + 1)), service_log.text()
    assert faults_left(sandbox_of(marketplace)) == 0
    one_checkout_session_at_stripe(marketplace, won)


@then(parsers.parse("the marketplace waited {seconds:d} seconds before asking Stripe again"))
def waited_as_told(marketplace: Marketplace, won: WonLot, service_log: ServiceLog,
                   seconds: int) -> None:
    retries = service_log.retries()
    assert len(retries) == 1, service_log.text()
    assert "429" in retries[0].failure and retries[0].delay >= seconds, retries
    one_checkout_session_at_stripe(marketplace, won)


def one_checkout_session_at_stripe(marketplace: Marketplace, won: WonLot) -> None:
    at_stripe = [s for s in sandbox_of(marketplace).sdk.v1.checkout.sessions.list(
        params={"limit": 100}).auto_paging_iter()
        if (s.to_dict().get("metadata") or {}).get("win_id") == won.win_id]
    assert len(at_stripe) == 1, at_stripe
