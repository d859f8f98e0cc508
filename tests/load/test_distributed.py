"""Locust's own master and workers: ``stripe-sim load --master`` starts the servers and
waits for two ``stripe-sim load --worker`` processes (all on 127.0.0.1), which get the
plan from the master and run the users."""

from __future__ import annotations

import pytest
from load_support import TIMEOUT_SECONDS, start_load

from simulator.bench.servers import free_port

pytestmark = pytest.mark.slow


def test_a_master_and_two_workers_on_loopback_pass() -> None:
    port = str(free_port())
    master = start_load(["--master", "--expect-workers", "2", "--master-port", port,
                         "--users", "4", "--spawn-rate", "4", "--run-time", "6s",
                         "--settle-seconds", "10"])
    workers = [start_load(["--worker", "--master-host", "127.0.0.1", "--master-port", port])
               for _ in range(2)]
    try:
        output, _ = master.communicate(timeout=TIMEOUT_SECONDS)
        statuses = [worker.wait(timeout=30) for worker in workers]
    finally:
        for process in (master, *workers):
            if process.poll() is None:
                process.kill()
                process.wait()

    assert master.returncode == 0, output
    assert "waiting for 2 workers" in output
    assert "2 workers" in output.split("waiting for 2 workers", 1)[1]  # the progress line
    assert "PASS" in output
    assert statuses == [0, 0]
