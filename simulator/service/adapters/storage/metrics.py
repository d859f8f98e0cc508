"""Monitoring (``service/metrics.py``): aggregates read at scrape time, and request
latencies counted into histogram buckets shared by every worker process."""

from __future__ import annotations

from typing import Any

from simulator.service.adapters.storage.store import Store


class MetricRecords(Store):
    """``latency_buckets``, and the collector's fixed aggregate queries."""

    def observe_latency(self, metric: str, label: str, le: str, seconds: float) -> None:
        """One request's duration counted in its bucket (``le``: the bucket's bound)."""
        with self.transaction() as conn:
            conn.execute(
                "INSERT INTO latency_buckets (metric, label, le, count, total)"
                " VALUES (?, ?, ?, 1, ?) ON CONFLICT (metric, label, le) DO UPDATE SET"
                " count = count + 1, total = total + excluded.total",
                (metric, label, le, seconds))

    def latency_buckets(self) -> list[tuple[str, str, str, int, float]]:
        rows = self._all_rows("SELECT metric, label, le, count, total FROM latency_buckets")
        return [(row[0], row[1], row[2], int(row[3]), float(row[4])) for row in rows]

    def grouped_counts(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        """Rows of ``(label..., count)`` from one of ``service/metrics.py``'s fixed
        aggregate queries (never built from user input)."""
        return [tuple(row) for row in self._all_rows(sql, *params)]
