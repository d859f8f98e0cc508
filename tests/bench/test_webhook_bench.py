"""``stripe-sim bench webhooks`` with tiny numbers, through Locust: every event the
load made is delivered, verified and timed. No timing is asserted."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from simulator.bench.servers import RunningServer, start_sandbox
from simulator.bench.webhooks import measure_webhook_delivery

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    server = start_sandbox(tmp_path_factory.mktemp("sandbox"), workers=1, threads=4)
    yield server
    server.stop()


@pytest.mark.parametrize("source", ["payment", "customer"])
def test_every_event_made_is_delivered_and_timed(sandbox: RunningServer, source: str) -> None:
    result = measure_webhook_delivery(sandbox.url, events=12, concurrency=3, source=source,
                                      server_pid=sandbox.process.pid, log=lambda line: None)

    assert 12 <= result.events <= 12 + 3  # users already sending when the 12th was made
    assert result.delivered == result.events, result.summary()
    assert result.creates.errors == 0
    assert 0 < result.p50_ms <= result.p99_ms <= result.max_ms
    assert f"{result.delivered}/{result.events} webhooks delivered" in result.summary()
    listed = requests.get(f"{sandbox.url}/v1/webhook_endpoints", timeout=10,
                          headers={"Authorization": "Bearer sk_test_stripe_sim_bench"})
    assert listed.json()["data"] == []  # the bench's endpoint is gone


def test_a_key_the_sandbox_refuses_stops_the_bench(sandbox: RunningServer) -> None:
    with pytest.raises(requests.HTTPError, match="401"):
        measure_webhook_delivery(sandbox.url, api_key="not-a-key", events=3, concurrency=1,
                                 log=lambda line: None)
