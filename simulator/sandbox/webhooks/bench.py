"""Webhook delivery benchmark: deliveries per second to a local receiver answering 200,
and latency from the API call that emits an event to the receiver having it verified.

For ``stripe-sim bench webhooks``: ``measure_webhook_delivery(api_base)`` against a
running sandbox. Each event is a ``payment_intent.succeeded`` from a confirmed
``POST /v1/payment_intents`` (``source="payment"``) or a ``customer.created`` from
``POST /v1/customers`` (``source="customer"``); its latency runs from just before that
request is sent (an upper bound on event-to-delivery latency, since the event commits
inside the request) to its verified arrival at the receiver. The endpoint uses the
``fast`` retry profile and is deleted afterwards.
"""

from __future__ import annotations

import statistics
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Literal

import requests

from simulator.common.clock import monotonic
from simulator.sandbox.webhooks.receiver import WebhookReceiver

DEFAULT_KEY = "sk_test_stripe_sim_bench"
Source = Literal["payment", "customer"]
# What creates one event of each source: (path, form, event type).
SOURCES: dict[str, tuple[str, dict[str, str], str]] = {
    "payment": (
        "/v1/payment_intents",
        {"amount": "2000", "currency": "usd", "payment_method": "pm_card_visa",
         "confirm": "true", "automatic_payment_methods[enabled]": "true",
         "automatic_payment_methods[allow_redirects]": "never"},
        "payment_intent.succeeded",
    ),
    "customer": ("/v1/customers", {"email": "bench@example.com"}, "customer.created"),
}


@dataclass(frozen=True)
class WebhookBenchResult:
    events: int
    delivered: int
    seconds: float
    creates_per_second: float
    deliveries_per_second: float
    p50_ms: float
    p99_ms: float
    max_ms: float

    def summary(self) -> str:
        return (
            f"{self.delivered}/{self.events} webhooks delivered in {self.seconds:.2f} s:"
            f" {self.deliveries_per_second:.0f} deliveries/s"
            f" (events created at {self.creates_per_second:.0f}/s);"
            f" event→delivery p50 {self.p50_ms:.1f} ms, p99 {self.p99_ms:.1f} ms,"
            f" max {self.max_ms:.1f} ms"
        )


@dataclass
class _Timings:
    sent: dict[str, float]
    created_by: float = 0.0


def measure_webhook_delivery(
    api_base: str,
    api_key: str = DEFAULT_KEY,
    events: int = 500,
    concurrency: int = 8,
    timeout: float = 60.0,
    source: Source = "payment",
) -> WebhookBenchResult:
    """Make ``events`` events from ``concurrency`` threads and time their webhooks."""
    base = api_base.rstrip("/")
    path, form, event_type = SOURCES[source]
    with WebhookReceiver() as receiver:
        endpoint_id = _create_endpoint(base, api_key, receiver, event_type)
        try:
            started = monotonic()
            timings = _create_objects(base, api_key, path, form, events, concurrency)
            receiver.wait_until(lambda r: len(r.verified()) >= events, timeout)
            arrivals = {r.event["data"]["object"]["id"]: r.arrived for r in receiver.verified()}
        finally:
            _session(api_key).delete(f"{base}/v1/webhook_endpoints/{endpoint_id}", timeout=10)
    return _result(events, started, timings, arrivals)


def _create_endpoint(
    base: str, api_key: str, receiver: WebhookReceiver, event_type: str
) -> str:
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


def _create_objects(
    base: str, api_key: str, path: str, form: dict[str, str], events: int, concurrency: int
) -> _Timings:
    timings = _Timings(sent={})
    lock = threading.Lock()
    local = threading.local()

    def create(index: int) -> None:
        if not hasattr(local, "session"):
            local.session = _session(api_key)
        sent = monotonic()
        response = local.session.post(f"{base}{path}", timeout=30, data=form)
        response.raise_for_status()
        with lock:
            timings.sent[response.json()["id"]] = sent

    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(create, range(events)))
    timings.created_by = monotonic()
    return timings


def _result(
    events: int, started: float, timings: _Timings, arrivals: dict[str, float]
) -> WebhookBenchResult:
    latencies = sorted(
        (arrivals[cid] - sent) * 1000 for cid, sent in timings.sent.items() if cid in arrivals
    )
    last = max(arrivals.values(), default=started)
    elapsed = max(last - started, 1e-9)
    return WebhookBenchResult(
        events=events,
        delivered=len(latencies),
        seconds=elapsed,
        creates_per_second=events / max(timings.created_by - started, 1e-9),
        deliveries_per_second=len(latencies) / elapsed,
        p50_ms=statistics.median(latencies) if latencies else 0.0,
        p99_ms=_percentile(latencies, 0.99),
        max_ms=latencies[-1] if latencies else 0.0,
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
