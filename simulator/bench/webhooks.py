"""``stripe-sim bench webhooks``: the sandbox's webhook deliveries per second to a local
receiver that verifies each signature and answers 200, and the time from the API call
that emits an event to the receiver having it verified.

Locust drives the load (``EventSource`` in ``load/bench_sandbox.py``, the project's one
load engine): each user creates objects back to back until ``events`` are made, a
``payment_intent.succeeded`` from each confirmed ``POST /v1/payment_intents``
(``source="payment"``) or a ``customer.created`` from ``POST /v1/customers``
(``source="customer"``), and writes each object's id with the moment its request was
sent. An event's latency runs from that moment (an upper bound on event-to-delivery
latency, since the event commits inside the request) to its verified arrival. The
endpoint uses the sandbox's ``fast`` retry profile and is deleted afterwards.
"""

from __future__ import annotations

import shutil
import statistics
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import requests

from simulator.bench.locust_run import LOCUSTFILE
from simulator.bench.measurement import LocustLoad, Log, Measurement, measure_load
from simulator.common.clock import monotonic
from simulator.sandbox.webhooks.receiver import WebhookReceiver

DEFAULT_KEY = "sk_test_stripe_sim_bench"
BENCH_LOCUSTFILE = LOCUSTFILE.parent / "bench_sandbox.py"
Source = Literal["payment", "customer"]
EVENT_TYPES: dict[str, str] = {"payment": "payment_intent.succeeded",
                               "customer": "customer.created"}
MAX_SECONDS = 300.0  # the creating load stops here even short of ``events``


@dataclass(frozen=True)
class WebhookBenchResult:
    events: int  # objects created (each emits one event)
    delivered: int
    seconds: float
    creates_per_second: float
    deliveries_per_second: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    creates: Measurement  # Locust's figures for the creating requests

    def summary(self) -> str:
        return (
            f"{self.delivered}/{self.events} webhooks delivered in {self.seconds:.2f} s:"
            f" {self.deliveries_per_second:.0f} deliveries/s"
            f" (events created at {self.creates_per_second:.0f}/s);"
            f" event→delivery p50 {self.p50_ms:.1f} ms, p99 {self.p99_ms:.1f} ms,"
            f" max {self.max_ms:.1f} ms"
        )


def measure_webhook_delivery(
    api_base: str,
    api_key: str = DEFAULT_KEY,
    events: int = 500,
    concurrency: int = 8,
    timeout: float = 60.0,
    source: Source = "payment",
    *,
    server_pid: int | None = None,
    log: Log = print,
) -> WebhookBenchResult:
    """Make ``events`` events with ``concurrency`` Locust users and time their webhooks;
    the deliveries still missing ``timeout`` seconds after the load are not counted."""
    base = api_base.rstrip("/")
    workdir = Path(tempfile.mkdtemp(prefix="bench-webhooks-"))
    try:
        with WebhookReceiver() as receiver:
            endpoint_id = _create_endpoint(base, api_key, receiver, EVENT_TYPES[source])
            try:
                sent_log = workdir / "sent.txt"
                load = LocustLoad(BENCH_LOCUSTFILE, "EventSource", base, concurrency,
                                  MAX_SECONDS, {"api_key": api_key, "source": source,
                                                "events": events, "sent_log": str(sent_log)},
                                  workdir)
                creates = measure_load(load, target="sandbox", workload=f"create ({source})",
                                       phase="webhooks", server_pid=server_pid, log=log)
                sent = read_sent(sent_log)
                receiver.wait_until(lambda r: _arrived(r, sent) >= len(sent), timeout)
                arrivals = {r.event["data"]["object"]["id"]: r.arrived
                            for r in receiver.verified()}
            finally:
                _session(api_key).delete(f"{base}/v1/webhook_endpoints/{endpoint_id}",
                                         timeout=10)
        return _result(sent, arrivals, creates)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def read_sent(path: Path) -> dict[str, float]:
    """Each created object's id and the moment its request was sent."""
    if not path.exists():
        return {}
    sent = {}
    for line in path.read_text().splitlines():
        object_id, moment, _pid = line.split()
        sent[object_id] = float(moment)
    return sent


def _arrived(receiver: WebhookReceiver, sent: dict[str, float]) -> int:
    return sum(1 for r in receiver.verified() if r.event["data"]["object"]["id"] in sent)


def _create_endpoint(base: str, api_key: str, receiver: WebhookReceiver,
                     event_type: str) -> str:
    session = _session(api_key)
    created = session.post(f"{base}/v1/webhook_endpoints", timeout=10, data={
        "url": receiver.url, "enabled_events[]": event_type,
        "description": "stripe-sim bench webhooks",
    })
    created.raise_for_status()
    endpoint = created.json()
    receiver.secrets = [endpoint["secret"]]
    session.post(f"{base}/_sandbox/webhooks/endpoints/{endpoint['id']}/config",
                 data={"profile": "fast"}, timeout=10).raise_for_status()
    return str(endpoint["id"])


def _result(sent: dict[str, float], arrivals: dict[str, float],
            creates: Measurement) -> WebhookBenchResult:
    latencies = sorted((arrivals[oid] - moment) * 1000 for oid, moment in sent.items()
                       if oid in arrivals)
    started = min(sent.values(), default=monotonic())
    last = max((arrivals[oid] for oid in sent if oid in arrivals), default=started)
    elapsed = max(last - started, 1e-9)
    return WebhookBenchResult(
        events=len(sent), delivered=len(latencies), seconds=elapsed,
        creates_per_second=creates.rps,
        deliveries_per_second=len(latencies) / elapsed,
        p50_ms=statistics.median(latencies) if latencies else 0.0,
        p99_ms=_percentile(latencies, 0.99),
        max_ms=latencies[-1] if latencies else 0.0,
        creates=creates,
    )


def _percentile(ordered: list[float], fraction: float) -> float:
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def _session(api_key: str) -> requests.Session:
    session = requests.Session()
    session.trust_env = False
    session.headers["Authorization"] = f"Bearer {api_key}"
    return session
