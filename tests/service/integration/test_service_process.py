"""``stripe-sim service`` as it runs for real: gunicorn with two workers, the endpoint
registered once before the fork, the scheduler ticking in the background, and a
test-mode clock every worker agrees on."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from integration_support import ALICE, SandboxControl, control_headers, record_win

from harness.servers import RunningServer
from harness.service import ServiceClient, start_service_process
from simulator.service.web.runtime import ClockOffsetFile

pytestmark = pytest.mark.slow
DAY = 24 * 3600


@pytest.fixture
def process(sandbox: SandboxControl, tmp_path: Path) -> Iterator[RunningServer]:
    server = start_service_process(tmp_path, sandbox.url, workers=2, threads=4,
                                   clock_offset=sandbox.offset())
    yield server
    server.stop()


def test_a_payment_through_the_gunicorn_service(process: RunningServer,
                                                sandbox: SandboxControl) -> None:
    now = int(sandbox.control("GET", "/clock").json()["now"])
    win = record_win(process.db_path, sandbox.url, 81, now - 60)
    buyer = ServiceClient(process.url, ALICE.api_token)
    started = buyer.create_checkout(win.id).json()
    checkout = started["checkout_url"].rsplit("/", 1)[-1]
    assert sandbox.complete(checkout)["status"] == "paid"
    sandbox.drain()
    status = buyer.status(started["payment_session_id"]).json()
    assert status["status"] == "succeeded"
    endpoints = [e for e in sandbox.sdk.v1.webhook_endpoints.list(
        params={"limit": 100}).auto_paging_iter() if e.url.startswith(process.url)]
    assert len(endpoints) == 1  # registered once, not once per worker


def test_the_scheduler_closes_the_window_with_nobody_asking(process: RunningServer,
                                                            sandbox: SandboxControl) -> None:
    now = int(sandbox.control("GET", "/clock").json()["now"])
    win = record_win(process.db_path, sandbox.url, 82, now - DAY + 120)
    buyer = ServiceClient(process.url, ALICE.api_token)
    started = buyer.create_checkout(win.id).json()
    offset_file = ClockOffsetFile(f"{process.db_path}.clock.json")
    offset_file.advance(180)  # both clocks past the window's end
    sandbox.advance(180)

    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:  # the background ticker runs every second
        if buyer.status(started["payment_session_id"]).json()["status"] == "expired":
            break
        time.sleep(0.2)
    assert buyer.status(started["payment_session_id"]).json()["status"] == "expired"
    nows = {requests.get(f"{process.url}/_test/clock", timeout=5,
                         headers=control_headers(process.db_path)).json()["now"] // 10
            for _ in range(8)}
    assert len(nows) == 1  # every worker reads the same moved clock
