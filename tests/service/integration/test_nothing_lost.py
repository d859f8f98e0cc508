"""Nothing lost, nothing doubled: the payment service and the sandbox as real processes,
killed with SIGKILL in the middle of a burst of payments, restarted on the same
database and port, and every payment Stripe took is then in the service exactly once
(one transaction, one order, one receipt and its mail). No clock moves: what a crash
cut off comes back through Stripe's redelivery, the service's start-up reconciliation
and its inbox recovery, in real time. Each test prints its counts (``pytest -s``)."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from integration_support import control_headers
from nothing_lost_support import (
    SETTLE_SECONDS,
    Burst,
    Stack,
    diagnose,
    pay_at_sandbox,
    running,
    settle,
    start_second_service,
    wait_until,
)

from harness.servers import free_port
from simulator.common.clock import Clock
from simulator.service.adapters.repositories import Repository
from simulator.service.adapters.webhook_endpoint import STATE_KEY as ENDPOINT_KEY
from simulator.service.config import ServiceConfig
from simulator.service.domain.inbox import InboxEvent
from simulator.service.payments.crash_points import POINTS
from simulator.service.payments.crash_points import STATE_KEY as CRASH_KEY
from simulator.service.scheduler import ISSUE_RECEIPT, Scheduler

pytestmark = pytest.mark.slow
BURST = 50
RECONCILE_SECONDS = 5
CIRCUIT_RESET_SECONDS = ServiceConfig().circuit_reset_seconds


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    with running(Stack(tmp_path)) as started:
        yield started


@pytest.fixture
def reconciling_stack(tmp_path: Path) -> Iterator[Stack]:
    """A service comparing its open payments with Stripe every 5 s instead of 2 min."""
    env = {"SERVICE_RECONCILE_SECONDS": str(RECONCILE_SECONDS)}
    with running(Stack(tmp_path, service_env=env)) as started:
        yield started


def burst_of_checkouts(stack: Stack, count: int = BURST) -> Burst:
    wins = stack.record_wins(count)
    return Burst(stack.sandbox_url, stack.start_checkouts(wins))


def assert_nothing_lost(stack: Stack, label: str, burst: Burst | None = None,
                        timeout: float = SETTLE_SECONDS) -> None:
    started = time.monotonic()
    counted = settle(stack, timeout)
    retrying = len(stack.deliveries(status="pending"))
    buyers = f"buyers: {burst.summary()}; " if burst else ""
    print(counted.line(label), f"({buyers}settled in {time.monotonic() - started:.1f} s;"
          f" deliveries awaiting Stripe's retry: {retrying})")
    assert counted.paid >= 1
    assert not counted.lost, f"{counted.lost}\n{diagnose(stack)}"
    assert not counted.doubled, f"{counted.doubled}\n{diagnose(stack)}"
    assert counted.settled, f"{counted}\n{diagnose(stack)}"


def assert_buyers_only_met_outages(burst: Burst) -> None:
    """Every buyer either paid or found Stripe down; nothing else went wrong."""
    assert set(burst.outcomes.values()) <= {"paid", "unreachable"}, burst.outcomes


# == SIGKILL mid-burst ==========================================================================
def test_the_service_killed_mid_burst_loses_and_doubles_nothing(stack: Stack) -> None:
    burst = burst_of_checkouts(stack).start()
    burst.wait_paid(20)
    stack.kill_service()
    burst.wait_paid(30)  # Stripe keeps taking payments; their deliveries fail
    stack.start_service()
    burst.join()
    assert burst.count("paid") == BURST
    assert_nothing_lost(stack, "service SIGKILL", burst)


def test_the_sandbox_killed_mid_burst_loses_and_doubles_nothing(
        reconciling_stack: Stack) -> None:
    """A worker that met Stripe's outage (a handler in flight, the reconciliation) opens
    its circuit for ``circuit_reset_seconds`` (60 s): the redeliveries it answers 500 in
    that time come back only after Stripe's retry (5 min in test mode). The next
    reconciliation after the circuit closes records them, so this test allows for it."""
    stack = reconciling_stack
    burst = burst_of_checkouts(stack).start()
    burst.wait_paid(20)
    stack.kill_sandbox()
    burst.wait_for(lambda b: b.count("unreachable") >= 3)  # buyers meet an error page
    stack.start_sandbox()
    burst.join()
    assert_buyers_only_met_outages(burst)
    assert burst.count("paid") >= 20
    circuit = "circuit opened" if "closed -> open" in stack.service_log() else "circuit closed"
    assert_nothing_lost(stack, f"sandbox SIGKILL, {circuit}", burst,
                        timeout=CIRCUIT_RESET_SECONDS + 4 * RECONCILE_SECONDS + 10)


@pytest.mark.parametrize("first", ["sandbox", "service"])
def test_both_killed_one_after_the_other_lose_and_double_nothing(stack: Stack,
                                                                 first: str) -> None:
    burst = burst_of_checkouts(stack).start()
    burst.wait_paid(15)
    if first == "sandbox":
        stack.kill_sandbox()
        burst.wait_for(lambda b: b.count("unreachable") >= 1)
        stack.kill_service()
    else:
        stack.kill_service()
        burst.wait_paid(25)  # Stripe still takes payments the service never hears of
        stack.kill_sandbox()
    burst.wait_for(lambda b: b.count("unreachable") >= 3)
    stack.start_sandbox()
    stack.start_service()
    burst.join()
    assert_buyers_only_met_outages(burst)
    assert_nothing_lost(stack, f"{first} SIGKILL, then the other", burst)


def test_the_service_restarts_before_the_sandbox_after_both_were_killed(
        reconciling_stack: Stack) -> None:
    stack = reconciling_stack
    burst = burst_of_checkouts(stack).start()
    burst.wait_paid(15)
    stack.kill_sandbox()
    stack.kill_service()
    burst.join()
    stack.start_service()  # the sandbox still down, as after a reboot in either order
    stack.start_sandbox()
    assert_buyers_only_met_outages(burst)
    assert_nothing_lost(stack, "both SIGKILL, service back first", burst,
                        timeout=CIRCUIT_RESET_SECONDS + 4 * RECONCILE_SECONDS + 10)


# == one instance per port and per database ======================================================
def test_a_second_service_is_refused_and_the_first_keeps_every_webhook(stack: Stack,
                                                                       tmp_path: Path) -> None:
    checkouts = stack.start_checkouts(stack.record_wins(7))
    stack.pay(checkouts[:2])
    first_pid = stack.service_server.process.pid if stack.service_server else None
    other_db = str(tmp_path / "other" / "service.sqlite3")
    intruder_port = free_port()
    same_port = start_second_service(stack, stack.service_port, other_db)
    same_db = start_second_service(stack, intruder_port, stack.service_db)

    for refusal, says in ((same_port, f"port {stack.service_port} on 127.0.0.1 is already"
                           " in use"), (same_db, f"{stack.service_db} is in use by pid")):
        assert refusal.returncode == 2, refusal
        assert len(refusal.stderr.strip().splitlines()) == 1, refusal.stderr
        assert says in refusal.stderr and "Traceback" not in refusal.stderr, refusal.stderr
        assert refusal.seconds < 15, refusal
    assert not Path(other_db).exists()  # refused before it touched anything
    with pytest.raises(requests.ConnectionError):
        requests.get(f"http://127.0.0.1:{intruder_port}/payments/health", timeout=5)

    assert stack.service_server is not None and stack.service_server.process.pid == first_pid
    assert stack.service_server.process.poll() is None
    stack.pay(checkouts[2:])
    assert_nothing_lost(stack, "second instance refused")
    assert settle(stack).orders == 7
    assert len(stack.webhook_endpoints()) == 1
    listed = stack.sandbox.sdk.v1.webhook_endpoints.list(params={"limit": 100})
    assert not [e for e in listed.auto_paging_iter() if f":{intruder_port}/" in e.url]


# == a worker killed half-way through an event ====================================================
def arm_crash(stack: Stack, point: str) -> None:
    answer = requests.post(f"{stack.service_url}/_test/faults",
                           json={"crash_at": point, "count": 1}, timeout=10,
                           headers=control_headers(stack.service_db))
    assert answer.status_code == 200, answer.text
    assert answer.json()["armed"][point] == 1


def crash_points_left(stack: Stack) -> dict[str, int]:
    repo = stack.repository()
    try:
        armed: dict[str, int] = repo.get_state(CRASH_KEY) or {}
        return armed
    finally:
        repo.close()


@pytest.mark.parametrize("point", POINTS)
def test_an_event_whose_worker_died_half_way_is_processed_exactly_once(stack: Stack,
                                                                       point: str) -> None:
    [checkout] = stack.start_checkouts(stack.record_wins(1))
    [endpoint] = stack.webhook_endpoints()
    # The payment's events arrive one at a time (held until the drain), so the worker
    # that dies is busy with the event under test only. (One dying while another of its
    # threads runs a job: test_a_job_whose_worker_died_is_run_again_without_its_lease.)
    stack.sandbox.chaos(endpoint.id, reorder="true")
    arm_crash(stack, point)
    assert pay_at_sandbox(stack.sandbox_url, checkout.checkout_session_id) == "paid"
    stack.sandbox.drain()
    assert wait_until(lambda: crash_points_left(stack).get(point) == 0, 15)
    assert wait_until(lambda: f"crash point {point} reached" in stack.service_log(), 15)
    assert wait_until(lambda: "was sent SIGKILL" in stack.service_log(), 15)  # gunicorn saw it
    server = stack.service_server
    assert server is not None and server.process.poll() is None  # and lives on

    # Stripe delivers again whatever did not get its 2xx (the Dashboard's "Resend").
    cut_off = {d["event"] for d in stack.deliveries(endpoint=endpoint.id)
               if d["status"] != "delivered"}
    assert cut_off, "the crash cut no delivery short"
    for event_id in sorted(cut_off):
        stack.sandbox.resend(event_id)
    assert_nothing_lost(stack, f"crash at {point}")

    # A redelivery that meets the recovery job at work is answered ``in_progress``, and
    # the job finishes the event: wait for that.
    assert wait_until(lambda: {e.status for e in inbox_of(stack)} == {"processed"}, 15,
                      every=0.2), inbox_of(stack)
    inbox = inbox_of(stack)
    assert {e.event_id for e in inbox} >= cut_off
    assert any(e.attempts >= 2 for e in inbox), inbox  # the cut-off one, taken over
    repo = stack.repository()
    try:
        assert repo.count("mail_outbox", "WHERE dedupe_key LIKE 'receipt:%'") == 1
    finally:
        repo.close()


def inbox_of(stack: Stack) -> list[InboxEvent]:
    repo = stack.repository()
    try:
        return repo.list_webhook_events(limit=1000)
    finally:
        repo.close()


# == a clean restart ==============================================================================
def test_a_restart_keeps_the_endpoint_and_the_deliveries_queued_meanwhile(stack: Stack) -> None:
    [endpoint] = stack.webhook_endpoints()
    stored_before = stored_endpoint_id(stack)
    assert stored_before == endpoint.id
    # Stripe's retries in seconds, not hours, so they come while the test waits.
    stack.sandbox.control("POST", f"/webhooks/endpoints/{endpoint.id}/config",
                          profile="fast").raise_for_status()
    checkouts = stack.start_checkouts(stack.record_wins(3))
    stack.stop_service()
    for checkout in checkouts:
        assert pay_at_sandbox(stack.sandbox_url, checkout.checkout_session_id) == "paid"
    ours = {c.checkout_session_id for c in checkouts}
    events = [e.id for e in stack.sandbox.events_for("checkout.session.completed")
              if e.data.object.id in ours]
    assert len(events) == 3
    assert wait_until(lambda: all(failed_attempts(stack, e) >= 1 for e in events), 15)

    stack.start_service()
    assert_nothing_lost(stack, "restart, 3 paid while down")
    assert [e.id for e in stack.webhook_endpoints()] == [endpoint.id]
    assert stored_endpoint_id(stack) == endpoint.id
    assert wait_until(lambda: all(delivered(stack, endpoint.id, e) for e in events), 40,
                      every=0.5)
    repo = stack.repository()
    try:
        statuses = [getattr(repo.get_webhook_event(e), "status", None) for e in events]
    finally:
        repo.close()
    assert statuses == ["processed"] * 3


def stored_endpoint_id(stack: Stack) -> str:
    repo = stack.repository()
    try:
        return str(repo.get_state(ENDPOINT_KEY)["id"])
    finally:
        repo.close()


def failed_attempts(stack: Stack, event_id: str) -> int:
    [delivery] = stack.deliveries(event=event_id)
    return sum(1 for a in delivery["attempts"] if a["status_code"] != 200)


def delivered(stack: Stack, endpoint_id: str, event_id: str) -> bool:
    """The delivery Stripe queued while the service was down arrived, after at least one
    failed attempt, to the same endpoint (and verified: the answer was 200)."""
    stack.sandbox.drain()
    [delivery] = stack.deliveries(event=event_id)
    attempts = delivery["attempts"]
    return (delivery["endpoint"] == endpoint_id and delivery["status"] == "delivered"
            and attempts[0]["status_code"] is None and attempts[-1]["status_code"] == 200)


# == a job whose worker died ======================================================================
DIES_RUNNING_ITS_JOB = """
import os, signal, sys
from simulator.common.clock import Clock
from simulator.service.adapters.repositories import Repository
from simulator.service.scheduler import ISSUE_RECEIPT, Scheduler
scheduler = Scheduler(Repository(sys.argv[1]), Clock())
scheduler.register(ISSUE_RECEIPT, lambda job: os.kill(os.getpid(), signal.SIGKILL))
scheduler.run_due()
"""


def test_a_job_whose_worker_died_is_run_again_without_its_lease(tmp_path: Path) -> None:
    """Seen end to end: a crash point killed a gunicorn worker while its other thread
    ran ``issue_receipt`` for the payment it had just committed; the order stayed
    without its receipt until the lease ran out. Here the worker is a process that
    claims the job and dies running it (SIGKILL)."""
    db = str(tmp_path / "service.sqlite3")
    repo = Repository(db)
    try:
        survivor = Scheduler(repo, Clock())
        with repo.transaction():
            survivor.schedule(ISSUE_RECEIPT, "ord_after_crash", Clock().now())
        died = subprocess.run([sys.executable, "-c", DIES_RUNNING_ITS_JOB, db], timeout=60,
                              check=False)
        assert died.returncode == -signal.SIGKILL
        ran: list[str] = []
        survivor.register(ISSUE_RECEIPT, lambda job: ran.append(job.ref))
        assert wait_until(lambda: survivor.run_due() > 0, 10, every=0.5)
        assert ran == ["ord_after_crash"]
    finally:
        repo.close()
