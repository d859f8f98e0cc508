"""``/metrics`` over real processes: the service under gunicorn with two workers and the
sandbox with two, after a paid win and a declined one. Whichever worker answers a
scrape, the figures are the same."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from integration_support import ALICE, SandboxControl, record_win
from prometheus_client.parser import text_string_to_metric_families

from harness.servers import RunningServer
from harness.service import ServiceClient, start_service_process

pytestmark = pytest.mark.slow
METRICS_TOKEN = "live-metrics-token"


@pytest.fixture
def process(sandbox: SandboxControl, tmp_path: Path) -> Iterator[RunningServer]:
    server = start_service_process(tmp_path, sandbox.url, workers=2, threads=4,
                                   clock_offset=sandbox.offset(),
                                   env={"METRICS_TOKEN": METRICS_TOKEN})
    yield server
    server.stop()


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def scrape(url: str, **headers: str) -> dict[Any, float]:
    answer = requests.get(f"{url}/metrics", headers=headers, timeout=10)
    assert answer.status_code == 200, answer.text
    return samples(answer.text)


def settled(url: str, auth: dict[str, str]) -> None:
    """Until the background scheduler has run the failure-rate check the decline queued
    (a job due now), so no scrape below races it."""
    due = ("payments_jobs", (("kind", "check_failure_rate"), ("state", "pending")))
    deadline = time.monotonic() + 15
    while due in scrape(url, **auth) and time.monotonic() < deadline:
        time.sleep(0.2)


def test_every_worker_gives_the_same_figures(process: RunningServer,
                                              sandbox: SandboxControl) -> None:
    now = int(sandbox.control("GET", "/clock").json()["now"])
    buyer = ServiceClient(process.url, ALICE.api_token)
    paid = buyer.create_checkout(record_win(process.db_path, sandbox.url, 91, now - 60).id)
    sandbox.complete(paid.json()["checkout_url"].rsplit("/", 1)[-1])
    declined = buyer.create_checkout(record_win(process.db_path, sandbox.url, 92, now - 60).id)
    sandbox.complete(declined.json()["checkout_url"].rsplit("/", 1)[-1],
                     payment_method="pm_card_chargeDeclinedInsufficientFunds")
    sandbox.drain()

    auth = {"Authorization": f"Bearer {METRICS_TOKEN}"}
    settled(process.url, auth)
    scrapes = [scrape(process.url, **auth) for _ in range(8)]

    assert all(found == scrapes[0] for found in scrapes)
    found = scrapes[0]
    assert found[("payments_checkouts_created_total", (("attempt", "first"),))] == 2
    assert found[("payments_succeeded_total", (("currency", "usd"),))] == 1
    assert found[("payments_failed_total", (("reason", "insufficient_funds"),))] == 1
    assert found[("payments_checkout_create_seconds_count", (("route", "api"),))] == 2
    assert found[("payments_webhook_processing_seconds_count",
                  (("outcome", "processed"),))] >= 2
    assert requests.get(f"{process.url}/metrics", timeout=10).status_code == 200  # loopback
    sandbox_found = scrape(sandbox.url)
    assert sandbox_found[("sandbox_webhook_deliveries", (("status", "delivered"),))] >= 2
