"""The durable job scheduler: due jobs run once, in due order, under a lease that makes
concurrent drains (threads here; processes share the same SQLite locking) safe."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from freezegun import freeze_time
from freezegun.api import FrozenDateTimeFactory

from simulator.common.clock import Clock
from simulator.service.adapters.repositories import Repository
from simulator.service.domain.jobs import Job
from simulator.service.scheduler import RetryBackoff, Scheduler

START = "2025-03-01 12:00:00"


@pytest.fixture
def frozen() -> Iterator[FrozenDateTimeFactory]:
    with freeze_time(START) as factory:
        assert isinstance(factory, FrozenDateTimeFactory)
        yield factory


@pytest.fixture
def repo(tmp_path: Path) -> Iterator[Repository]:
    repository = Repository(tmp_path / "jobs.sqlite3")
    yield repository
    repository.close()


def recording(scheduler: Scheduler, kind: str = "note") -> list[str]:
    seen: list[str] = []

    def handler(job: Job) -> None:
        seen.append(job.ref)

    scheduler.register(kind, handler)
    return seen


def schedule(scheduler: Scheduler, kind: str, ref: str, due_at: float) -> int | None:
    with scheduler.repo.transaction():
        return scheduler.schedule(kind, ref, due_at)


def test_only_due_jobs_run_in_due_order(repo: Repository, frozen: FrozenDateTimeFactory) -> None:
    scheduler = Scheduler(repo, Clock())
    seen = recording(scheduler)
    now = Clock().now()
    for ref, offset in (("later", 10), ("second", -5), ("first", -50), ("now", 0)):
        schedule(scheduler, "note", ref, now + offset)

    assert scheduler.run_due() == 3
    assert seen == ["first", "second", "now"]
    assert scheduler.run_due() == 0
    assert scheduler.run_due(now + 10) == 1
    assert seen[-1] == "later"


def test_a_job_is_scheduled_once_per_kind_and_ref(repo: Repository,
                                                  frozen: FrozenDateTimeFactory) -> None:
    scheduler = Scheduler(repo, Clock())

    first = schedule(scheduler, "note", "a", 0)
    again = schedule(scheduler, "note", "a", 100)

    assert first is not None and again is None
    assert [job.due_at for job in repo.pending_jobs()] == [0]


def test_a_live_lease_keeps_a_job_from_a_second_worker(repo: Repository) -> None:
    schedule(Scheduler(repo, Clock()), "note", "a", 0)

    taken = repo.claim_due_job(1, lease_until=1_000, owner="w1", lease_now=500)
    blocked = repo.claim_due_job(1, lease_until=1_100, owner="w2", lease_now=600)
    after_lease = repo.claim_due_job(1, lease_until=2_100, owner="w2", lease_now=1_001)

    assert taken is not None and taken.claimed_by == "w1"
    assert blocked is None
    assert after_lease is not None and after_lease.claimed_by == "w2"
    assert after_lease.attempts == 2


def test_a_worker_that_lost_its_lease_cannot_finish_the_job(repo: Repository) -> None:
    schedule(Scheduler(repo, Clock()), "note", "a", 0)
    repo.claim_due_job(1, lease_until=10, owner="w1", lease_now=0)
    repo.claim_due_job(1, lease_until=100, owner="w2", lease_now=11)

    repo.finish_job(1, "w1")

    assert len(repo.pending_jobs()) == 1


def test_concurrent_drains_run_every_job_exactly_once(tmp_path: Path,
                                                      frozen: FrozenDateTimeFactory) -> None:
    """Four workers, each with its own connection as separate processes would have."""
    path = tmp_path / "shared.sqlite3"
    setup = Repository(path)
    with setup.transaction():
        for n in range(200):
            setup.schedule_job("note", str(n), 0, 0)
    counts: Counter[str] = Counter()
    lock = threading.Lock()
    workers = []
    for _ in range(4):
        scheduler = Scheduler(Repository(path), Clock())

        def handler(job: Job) -> None:
            with lock:
                counts[job.ref] += 1

        scheduler.register("note", handler)
        workers.append(threading.Thread(target=scheduler.run_due))
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()

    assert len(counts) == 200 and set(counts.values()) == {1}
    assert setup.pending_jobs() == []


def test_a_failing_job_backs_off_then_is_given_up_with_an_alert(
        repo: Repository, frozen: FrozenDateTimeFactory) -> None:
    clock = Clock()
    scheduler = Scheduler(repo, clock, backoff=RetryBackoff(base_seconds=10, max_attempts=3))

    def broken(job: Job) -> None:
        raise RuntimeError("boom")

    scheduler.register("broken", broken)
    schedule(scheduler, "broken", "x", clock.now())

    assert scheduler.run_due() == 1
    [job] = repo.pending_jobs()
    assert job.due_at == clock.now() + 10 and job.attempts == 1
    frozen.tick(10)
    scheduler.run_due()
    assert repo.pending_jobs()[0].due_at == clock.now() + 20
    frozen.tick(20)
    scheduler.run_due()

    assert repo.pending_jobs() == []
    [alert] = repo.list_alerts()
    assert (alert.kind, alert.severity) == ("job_failed", "critical")
    assert "broken x failed 3 times" in alert.message


def test_a_job_without_a_handler_is_retried_not_lost(repo: Repository,
                                                     frozen: FrozenDateTimeFactory) -> None:
    scheduler = Scheduler(repo, Clock())
    schedule(scheduler, "unknown", "x", 0)

    scheduler.run_due()

    assert len(repo.pending_jobs()) == 1


def test_a_handler_may_ask_to_run_again_later(repo: Repository,
                                              frozen: FrozenDateTimeFactory) -> None:
    clock = Clock()
    scheduler = Scheduler(repo, clock)
    runs: list[float] = []

    def again(job: Job) -> float | None:
        runs.append(clock.now())
        return clock.now() + 900 if len(runs) == 1 else None

    scheduler.register("again", again)
    schedule(scheduler, "again", "x", clock.now())

    scheduler.run_due()
    assert [job.due_at for job in repo.pending_jobs()] == [clock.now() + 900]
    frozen.tick(900)
    scheduler.run_due()

    assert len(runs) == 2 and repo.pending_jobs() == []


def test_run_now_runs_only_the_named_due_jobs(repo: Repository,
                                              frozen: FrozenDateTimeFactory) -> None:
    clock = Clock()
    scheduler = Scheduler(repo, clock)
    seen = recording(scheduler)
    mine = schedule(scheduler, "note", "mine", clock.now())
    schedule(scheduler, "note", "other", clock.now())
    future = schedule(scheduler, "note", "future", clock.now() + 60)

    assert scheduler.run_now([mine, future, None]) == 1
    assert seen == ["mine"]


def test_canceled_jobs_do_not_run(repo: Repository, frozen: FrozenDateTimeFactory) -> None:
    scheduler = Scheduler(repo, Clock())
    seen = recording(scheduler)
    schedule(scheduler, "note", "win_1:ps_1:1", 0)
    schedule(scheduler, "note", "win_1:ps_1:2", 0)
    schedule(scheduler, "note", "win_2:ps_2:1", 0)

    assert repo.cancel_jobs("note", "win_1:") == 2
    scheduler.run_due()

    assert seen == ["win_2:ps_2:1"]


def test_run_forever_stops_when_told(repo: Repository) -> None:
    scheduler = Scheduler(repo, Clock())
    seen = recording(scheduler)
    schedule(scheduler, "note", "a", 0)
    stop = threading.Event()
    loop = threading.Thread(target=scheduler.run_forever, args=(stop, 0.01))
    loop.start()
    for _ in range(200):
        if seen:
            break
        stop.wait(0.01)
    stop.set()
    loop.join(timeout=5)

    assert seen == ["a"] and not loop.is_alive()


def test_a_job_held_by_a_process_that_is_gone_is_taken_at_once(repo: Repository) -> None:
    """Its lease still has minutes to run, but its owner's pid no longer exists."""
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    dead_owner = f"{socket.gethostname()}:{int(gone.stdout)}/worker_dead"
    clock = Clock()
    with repo.transaction():
        repo.schedule_job("note", "held_by_the_dead", clock.now(), clock.timestamp())
    assert Scheduler(repo, clock, owner=dead_owner)._claim(clock.now()) is not None

    survivor = Scheduler(repo, clock)
    seen = recording(survivor)
    assert survivor.run_due() == 1
    assert seen == ["held_by_the_dead"]


def test_a_job_held_by_a_live_process_waits_for_its_lease(repo: Repository) -> None:
    clock = Clock()
    with repo.transaction():
        repo.schedule_job("note", "held_by_the_living", clock.now(), clock.timestamp())
    assert Scheduler(repo, clock)._claim(clock.now()) is not None  # this process, alive

    other = Scheduler(repo, clock)
    seen = recording(other)
    assert other.run_due() == 0
    assert seen == []


def test_settling_waits_for_a_due_job_another_worker_is_running(repo: Repository) -> None:
    """A step of the sandbox's jump does not move on while a job due now still runs in
    another worker: it would otherwise finish at a later time than it was due."""
    clock = Clock()
    with repo.transaction():
        repo.schedule_job("note", "slow", clock.now(), clock.timestamp())
    other = Scheduler(repo, clock)
    started, release = threading.Event(), threading.Event()
    finished: list[str] = []

    def slow(job: Job) -> None:
        started.set()
        release.wait(10)
        finished.append(job.ref)

    other.register("note", slow)
    worker = threading.Thread(target=other.run_due)
    worker.start()
    assert started.wait(10)
    threading.Timer(0.3, release.set).start()
    assert Scheduler(repo, clock).run_due_and_settle(timeout_seconds=10) == 0
    assert finished == ["slow"]  # settled only once the other worker's job was done
    worker.join()
