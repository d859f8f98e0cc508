"""``stripe-sim wins add`` against a payment service running in this process: each
outcome is one line and never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.service import InProcessService, service_config, start_service_in_process
from simulator.common.clock import Clock
from simulator.service.domain.user import User

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "auction-timer-secret"
BUYER = User("usr_alice", "Alice Buyer", "alice@example.test", "buyer", "tok_alice", "US")
UNREACHABLE = "http://127.0.0.1:9"


@pytest.fixture
def service(tmp_path: Path) -> Iterator[InProcessService]:
    # With a webhook secret of its own the service never calls the (absent) sandbox.
    config = service_config(tmp_path, UNREACHABLE, stripe_webhook_secret="whsec_test",
                            auction_api_token=TOKEN)
    running = start_service_in_process(config)
    running.runtime.repo.add_user(BUYER)
    yield running
    running.stop()


def wins_add(url: str, *extra: str, token: str | None = TOKEN,
             buyer: str = BUYER.id) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if key != "AUCTION_API_TOKEN"}
    if token is not None:
        env["AUCTION_API_TOKEN"] = token
    command = [sys.executable, "-m", "simulator", "wins", "add", "--auction-id", "auc_17",
               "--lot", "17", "--title", "Brass carriage clock", "--buyer", buyer,
               "--amount", "64200", "--currency", "usd", "--service-url", url, *extra]
    done = subprocess.run(command, capture_output=True, text=True, env=env, cwd=ROOT,
                          timeout=60)
    assert "Traceback" not in done.stderr
    return done


def test_a_win_is_recorded_and_printed_in_one_line(service: InProcessService) -> None:
    done = wins_add(service.url)
    assert done.returncode == 0, done.stderr
    assert len(done.stdout.splitlines()) == 1
    assert done.stdout.startswith("recorded win auc_17: lot 17 'Brass carriage clock', "
                                  "$642.00 won by usr_alice")
    win = service.runtime.repo.get_win("auc_17")
    assert win is not None and win.seller_id == "sel_house"
    assert abs(win.ended_at - Clock().timestamp()) < 60  # --ended-at defaults to now


def test_sending_it_again_says_it_was_already_recorded(service: InProcessService) -> None:
    ended = ["--ended-at", str(Clock().timestamp() - 600)]
    assert wins_add(service.url, *ended).returncode == 0
    again = wins_add(service.url, *ended)
    assert again.returncode == 0
    assert again.stdout.startswith("already recorded win auc_17")


def test_a_refusal_prints_the_services_message(service: InProcessService) -> None:
    done = wins_add(service.url, buyer="usr_nobody")
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr.splitlines() == [
        "stripe-sim wins add: refused (400): buyer_id: no buyer with id 'usr_nobody'."]


def test_a_wrong_token_is_refused_in_one_line(service: InProcessService) -> None:
    done = wins_add(service.url, token="not-the-secret")
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        "stripe-sim wins add: refused (401): The auction API token is not valid."]


def test_an_unreachable_service_is_one_line() -> None:
    done = wins_add(UNREACHABLE)
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        f"stripe-sim wins add: payment service not reachable at {UNREACHABLE}"]


def test_a_missing_token_is_one_line() -> None:
    done = wins_add(UNREACHABLE, token=None)
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        "stripe-sim wins: set AUCTION_API_TOKEN to the payment service's auction API token"]
