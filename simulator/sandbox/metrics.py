"""The sandbox's ``GET /metrics`` (Prometheus text format): requests by route and status,
PaymentIntents and Checkout Sessions by status, webhook deliveries by status and the
time their attempts took, and pending jobs.

The sandbox runs as several worker processes, so nothing is counted in one process's
memory for long: object, delivery and job figures are read from the database at scrape
time, and each process adds its request counts to the ``request_counts`` table at most
once a second (and before it answers a scrape). A GET on the API stays a read; a crash
loses at most the last second of one process's counts. Like the rest of the control
plane, the route needs no key: the sandbox holds test data only and listens on loopback.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections import Counter
from collections.abc import Iterable, Iterator

from flask import Blueprint, Flask, Response, current_app, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from simulator.common.clock import monotonic
from simulator.sandbox.runtime import Runtime
from simulator.sandbox.store import Store

log = logging.getLogger("simulator.sandbox.metrics")
PREFIX = "sandbox"
EXTENSION = "sandbox_metrics"
FLUSH_EVERY_SECONDS = 1.0
UNMATCHED = "unmatched"  # a URL no route serves (Stripe's "Unrecognized request URL")
# Webhook attempt durations (seconds): the histogram's bucket bounds.
DELIVERY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
OBJECTS_BY_STATUS = (
    "SELECT type, COALESCE(json_extract(data, '$.status'), 'none'), COUNT(*) FROM objects"
    " WHERE type IN ('payment_intent', 'checkout.session') AND deleted = 0 GROUP BY 1, 2")

bp = Blueprint("sandbox_metrics", __name__)


class RequestCounts:
    """This process's request counts since its last flush to the shared table."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._pending: Counter[tuple[str, str, int]] = Counter()
        self._lock = threading.Lock()
        self._flushed_at = monotonic()

    def add(self, route: str, method: str, status: int) -> None:
        with self._lock:
            self._pending[(route, method, status)] += 1
            due = monotonic() - self._flushed_at >= FLUSH_EVERY_SECONDS
        if due:
            self.flush()

    def flush(self) -> None:
        with self._lock:
            pending, self._pending = self._pending, Counter()
            self._flushed_at = monotonic()
        if not pending:
            return
        try:
            with self.store.transaction() as conn:
                conn.executemany(
                    "INSERT INTO request_counts (route, method, status, count)"
                    " VALUES (?, ?, ?, ?) ON CONFLICT (route, method, status) DO UPDATE SET"
                    " count = count + excluded.count",
                    [(*key, count) for key, count in pending.items()])
        except sqlite3.Error:  # kept for the next flush; a count never fails a request
            log.warning("request counts not flushed", exc_info=True)
            with self._lock:
                self._pending.update(pending)


class SandboxMetrics(Collector):
    def __init__(self, store: Store) -> None:
        self.store = store

    def collect(self) -> Iterator[Metric]:
        with self.store.read() as conn:
            requests = conn.execute(
                "SELECT route, method, status, count FROM request_counts").fetchall()
            objects = conn.execute(OBJECTS_BY_STATUS).fetchall()
            deliveries = conn.execute("SELECT status, COUNT(*) FROM webhook_deliveries"
                                      " GROUP BY status").fetchall()
            attempts = conn.execute(_attempt_buckets_sql()).fetchone()
            jobs = conn.execute("SELECT kind, COUNT(*) FROM jobs GROUP BY kind").fetchall()
        yield _requests(requests)
        yield from _objects(objects)
        yield _deliveries(deliveries)
        yield _attempt_durations(attempts)
        pending = GaugeMetricFamily(f"{PREFIX}_jobs_pending", "Timed jobs not run yet.",
                                    labels=["kind"])
        for kind, count in jobs:
            pending.add_metric([kind], count)
        yield pending


def _requests(rows: Iterable[tuple[str, str, int, int]]) -> Metric:
    family = CounterMetricFamily(f"{PREFIX}_requests", "HTTP requests answered, by route"
                                 " template, method and status.",
                                 labels=["route", "method", "status"])
    for route, method, status, count in rows:
        family.add_metric([route, method, str(status)], count)
    return family


def _objects(rows: Iterable[tuple[str, str, int]]) -> Iterable[Metric]:
    intents = GaugeMetricFamily(f"{PREFIX}_payment_intents", "PaymentIntents by status.",
                                labels=["status"])
    sessions = GaugeMetricFamily(f"{PREFIX}_checkout_sessions", "Checkout Sessions by"
                                 " status.", labels=["status"])
    for object_type, status, count in rows:
        (intents if object_type == "payment_intent" else sessions).add_metric([status], count)
    return [intents, sessions]


def _deliveries(rows: Iterable[tuple[str, int]]) -> Metric:
    family = GaugeMetricFamily(f"{PREFIX}_webhook_deliveries", "Webhook deliveries by status"
                               " (pending: waiting for a first or a next attempt).",
                               labels=["status"])
    found = dict(rows)
    for status in ("pending", "delivered", "failed"):
        family.add_metric([status], found.get(status, 0))
    return family


def _attempt_buckets_sql() -> str:
    """One pass over the attempt log: a count per bucket bound, the total, the sum."""
    bounds = ", ".join(f"COALESCE(SUM(duration_ms <= {bound * 1000!r}), 0)"
                       for bound in DELIVERY_BUCKETS)
    return (f"SELECT {bounds}, COUNT(*), COALESCE(SUM(duration_ms), 0) / 1000.0"
            " FROM webhook_attempts")


def _attempt_durations(row: tuple[float, ...]) -> Metric:
    *counts, total, seconds = row
    buckets = [(repr(bound), float(count)) for bound, count in zip(DELIVERY_BUCKETS, counts,
                                                                    strict=True)]
    family = HistogramMetricFamily(f"{PREFIX}_webhook_attempt_seconds", "Time each webhook"
                                   " delivery attempt took, until the receiver answered.")
    family.add_metric([], [*buckets, ("+Inf", float(total))], float(seconds))
    return family


# -- the route and the request counting ---------------------------------------------------------
def install(app: Flask, rt: Runtime) -> None:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(SandboxMetrics(rt.store))
    app.extensions[EXTENSION] = (RequestCounts(rt.store), registry)
    app.register_blueprint(bp)


@bp.get("/metrics")
def metrics() -> Response:
    counts, registry = current_app.extensions[EXTENSION]
    counts.flush()
    return Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST)


@bp.after_app_request
def _count_request(response: Response) -> Response:
    if request.endpoint == "sandbox_metrics.metrics":
        return response
    counts: RequestCounts = current_app.extensions[EXTENSION][0]
    route = request.url_rule.rule if request.url_rule is not None else UNMATCHED
    counts.add(route, request.method, response.status_code)
    return response
