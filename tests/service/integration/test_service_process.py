"""``stripe-sim service`` as it runs for real: gunicorn with two workers, the endpoint
registered once before the fork, the scheduler ticking in the background, and a
test-mode clock every worker agrees on."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from integration_support import ALICE, SandboxControl

from harness.servers import RunningServer
from harness.service import ServiceClient, service_config, start_service_process
from simulator.common.clock import Clock
from simulator.service.adapters.receipts import ReceiptStore
from simulator.service.adapters.repositories import Repository
from simulator.service.adapters.stripe_gateway import StripeGateway
from simulator.service.domain.auction import AuctionWin
from simulator.service.payments import PaymentService
from simulator.service.web.runtime import ClockOffsetFile

pytestmark = pytest.mark.slow
DAY = 24 * 3600


@pytest.fixture
def process(sandbox: SandboxControl, tmp_path: Path) -> Iterator[RunningServer]:
    server = start_service_process(tmp_path, sandbox.url, workers=2, threads=4,
                                   clock_offset=sandbox.offset())
    yield server
    server.stop()


def record_win(db_path: str, sandbox_url: str, lot: int, ended_at: int) -> AuctionWin:
    """What the auction house does when an auction ends (through the payment core)."""
    config = service_config(Path(db_path).parent, sandbox_url)
    repo = Repository(db_path)
    if repo.get_user(ALICE.id) is None:
        with repo.transaction():
            repo.add_user(ALICE)
    clock = Clock()
    core = PaymentService(repo, StripeGateway(config, clock), clock, config, None,
                          ReceiptStore(config.receipts_dir))
    win = AuctionWin(f"win_{lot}", lot, f"Lot number {lot}", "usr_seller", ALICE.id, 64_200,
                     "usd", ended_at)
    core.record_win(win)
    repo.close()
    return win


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
    nows = {requests.get(f"{process.url}/_test/clock", timeout=5).json()["now"] // 10
            for _ in range(8)}
    assert len(nows) == 1  # every worker reads the same moved clock
