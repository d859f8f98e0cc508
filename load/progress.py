"""A one-line progress report every few seconds while a long Locust run works, printed
by the process that owns the run (local or master), never by its workers."""

from __future__ import annotations

import sys

import gevent
from locust.env import Environment
from locust.runners import MasterRunner, WorkerRunner

from simulator.common.clock import monotonic

PROGRESS_SECONDS = 5.0


def report_progress(environment: Environment, label: str) -> None:
    """Runs in its own greenlet until the run ends."""
    if isinstance(environment.runner, WorkerRunner):
        return
    started = monotonic()
    while True:
        gevent.sleep(PROGRESS_SECONDS)
        total = environment.stats.total
        runner = environment.runner
        users = runner.user_count if runner is not None else 0
        workers = (f", {len(runner.clients.ready) + len(runner.clients.running)} workers"
                   if isinstance(runner, MasterRunner) else "")
        p95 = total.get_response_time_percentile(0.95)
        print(f"[{label}] {monotonic() - started:4.0f}s: {users} users{workers},"
              f" {total.num_requests:,} requests, {total.num_failures:,} failures,"
              f" {total.current_rps:,.1f} req/s, p95 {p95:.0f} ms", file=sys.stderr, flush=True)
