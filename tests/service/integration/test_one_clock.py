"""One time for the sandbox and the service, as ``stripe-sim up`` runs them: moving the
sandbox's clock (the README's control route, or ``stripe-sim clock advance``) moves the
service's too, and a 24-hour jump runs everything due on both sides in time order."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from integration_support import ALICE, SandboxControl, control_headers, record_win

from harness.servers import RunningServer
from harness.service import ServiceClient, start_service_process
from simulator.service.adapters.repositories import Repository

pytestmark = pytest.mark.slow
HOUR = 3600


@pytest.fixture
def service(sandbox: SandboxControl, tmp_path: Path) -> Iterator[RunningServer]:
    server = start_service_process(tmp_path, sandbox.url, workers=2, threads=2)
    yield server
    server.stop()
    requests.delete(f"{sandbox.url}/_sandbox/clock/followers", data={"url": server.url},
                    timeout=10)


def service_now(service: RunningServer) -> int:
    return int(requests.get(f"{service.url}/_test/clock", timeout=10,
                            headers=control_headers(service.db_path)).json()["now"])


def test_the_service_follows_the_sandbox_clock(sandbox: SandboxControl,
                                               service: RunningServer) -> None:
    assert service.url in sandbox.control("GET", "/clock").json()["followers"]
    sandbox.advance(2 * HOUR)
    assert abs(service_now(service) - int(sandbox.control("GET", "/clock").json()["now"])) <= 1
    requests.post(f"{service.url}/_test/clock/advance", json={"seconds": HOUR}, timeout=60,
                  headers=control_headers(service.db_path)).raise_for_status()  # asked of it
    assert abs(service_now(service) - int(sandbox.control("GET", "/clock").json()["now"])) <= 1


def test_a_day_jump_sends_each_reminder_at_its_time_then_closes_the_window(
        sandbox: SandboxControl, service: RunningServer) -> None:
    now = int(sandbox.control("GET", "/clock").json()["now"])
    win = record_win(service.db_path, sandbox.url, 91, now - 60)
    buyer = ServiceClient(service.url, ALICE.api_token)
    started = buyer.create_checkout(win.id).json()
    checkout = started["checkout_url"].rsplit("/", 1)[-1]
    assert sandbox.complete(checkout, "pm_card_chargeDeclinedExpiredCard")["status"] \
        != "paid"
    sandbox.drain()
    failed_at = int(sandbox.control("GET", "/clock").json()["now"])
    assert buyer.status(started["payment_session_id"]).json()["status"] == "failed"

    moved = subprocess.run([sys.executable, "-m", "simulator", "clock", "advance", "24h",
                            "--sandbox-url", sandbox.url], capture_output=True, text=True,
                           timeout=600)
    assert moved.returncode == 0, moved.stderr
    assert "steps" in moved.stdout

    repo = Repository(service.db_path)
    mails = {row["dedupe_key"].split(":")[0] + row["dedupe_key"].split(":")[2 if
             row["dedupe_key"].startswith("reminder") else 0]: row["created_at"]
             for row in repo.connection().execute(
                 "SELECT dedupe_key, created_at FROM mail_outbox").fetchall()}
    reminders = sorted(at for key, at in mails.items() if key.startswith("reminder"))
    assert len(reminders) == 3
    for sent, hours in zip(reminders, (1, 6, 18), strict=True):
        assert 0 <= sent - (failed_at + hours * HOUR) <= 300 + 5  # jitter up to 300 s
    closed = next(at for key, at in mails.items() if key.startswith("window_closed"))
    assert closed >= win.ended_at + 24 * HOUR > reminders[-1]
    assert repo.order_for_win(win.id).status == "canceled"  # type: ignore[union-attr]
    assert repo.list_security_events() == []  # no delivery refused as stale
    repo.close()
