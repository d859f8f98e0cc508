"""Monitoring: the metrics collector over the database, the request latencies behind
its histograms, and alerts forwarded to ``ALERT_WEBHOOK_URL`` as jobs."""

from __future__ import annotations

from typing import Protocol

from simulator.service.config import ServiceConfig
from simulator.service.metrics import MetricsStore, PaymentMetrics, bucket_of


class MonitoringStore(MetricsStore, Protocol):
    def observe_latency(self, metric: str, label: str, le: str, seconds: float) -> None: ...

    def forward_alerts_as_jobs(self, job_kind: str | None) -> None: ...


class Monitoring:
    def __init__(self, store: MonitoringStore, config: ServiceConfig) -> None:
        self.store = store
        self.config = config

    def collector(self) -> PaymentMetrics:
        return PaymentMetrics(self.store, self.config)

    def observe_latency(self, metric: str, label: str, seconds: float) -> None:
        """One request's duration, counted in its histogram bucket."""
        self.store.observe_latency(metric, label, bucket_of(seconds), seconds)

    def forward_alerts_as_jobs(self, job_kind: str | None) -> None:
        """Every alert recorded from now on queues a ``job_kind`` job in its own
        transaction (None: no longer)."""
        self.store.forward_alerts_as_jobs(job_kind)
