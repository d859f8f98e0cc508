"""Monitoring (``service/metrics.py``): the collector's aggregates, each a named query
read at scrape time, and request latencies counted into histogram buckets shared by
every worker process."""

from __future__ import annotations

from typing import Any

from simulator.service.adapters.fraud_signals import verdict_counts
from simulator.service.adapters.storage.store import Store

# The aggregate queries (fixed text, no parameters).
CHECKOUTS = ("SELECT w.currency, w.amount, ps.attempt > 1, COUNT(*) FROM payment_sessions ps"
             " JOIN wins w ON w.id = ps.win_id WHERE ps.checkout_session_id IS NOT NULL"
             " GROUP BY 1, 2, 3")
SESSIONS_BY_STATUS = "SELECT status, COUNT(*) FROM payment_sessions GROUP BY status"
ORDERS_BY_STATUS = "SELECT status, COUNT(*) FROM orders GROUP BY status"
PAYMENTS = "SELECT currency, COUNT(*), COALESCE(SUM(amount), 0) FROM transactions GROUP BY 1"
FAILURES_BY_REASON = (
    "SELECT COALESCE(json_extract(after, '$.failure_code'), 'unknown'), COUNT(*)"
    " FROM audit_log WHERE action = 'payment_session.failed' GROUP BY 1")
THREE_DS_RESULTS = ("SELECT COALESCE(three_d_secure_result, 'none'), COUNT(*)"
                    " FROM transactions GROUP BY 1")
# Wins that had a failed attempt, and those of them paid in the end (recovered).
RECOVERIES = (
    "SELECT COUNT(*), COALESCE(SUM(EXISTS (SELECT 1 FROM transactions t"
    " WHERE t.win_id = failed.win_id)), 0) FROM (SELECT DISTINCT"
    " json_extract(after, '$.win_id') AS win_id FROM audit_log"
    " WHERE action = 'payment_session.failed') AS failed")
FRAUD_DECISIONS = ("SELECT review_flags != '[]' AND review_flags IS NOT NULL, review_status,"
                   " COUNT(*) FROM transactions GROUP BY 1, 2")
FRAUD_FLAGS = ("SELECT flag.value, COUNT(*) FROM transactions, json_each("
               "COALESCE(transactions.review_flags, '[]')) AS flag GROUP BY 1")
INBOX = ("SELECT status, COUNT(*), COALESCE(SUM(attempts - 1), 0) FROM webhook_inbox"
         " GROUP BY status")
# Seconds from a payment's record to its receipt, once per order (the first attach).
RECEIPT_LATENCY = (
    "SELECT MIN(a.at) - t.created_at FROM audit_log a JOIN orders o ON o.id = a.subject_id"
    " JOIN transactions t ON t.id = o.transaction_id"
    " WHERE a.action = 'order.receipt_attached' GROUP BY o.id")
DISPUTES = "SELECT status, COUNT(*), COALESCE(SUM(amount), 0) FROM disputes GROUP BY status"
JOBS = ("SELECT kind, CASE done WHEN 0 THEN 'pending' WHEN 2 THEN 'dead' ELSE 'done' END,"
        " COUNT(*) FROM jobs GROUP BY 1, 2")
ALERTS = ("SELECT kind, severity, acknowledged, COUNT(*) FROM alerts GROUP BY 1, 2, 3")


class MetricRecords(Store):
    """``latency_buckets``, and the collector's aggregates by name. Each answers rows of
    ``(label..., count)`` as SQLite gives them."""

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

    def checkout_counts(self) -> list[tuple[str, int, int, int]]:
        """(currency, amount, 1 for a second or later attempt, Checkout Sessions)."""
        return self._rows(CHECKOUTS)

    def session_counts(self) -> list[tuple[str, int]]:
        """(status, payment sessions)."""
        return self._rows(SESSIONS_BY_STATUS)

    def order_counts(self) -> list[tuple[str, int]]:
        """(status, orders)."""
        return self._rows(ORDERS_BY_STATUS)

    def payment_totals(self) -> list[tuple[str, int, int]]:
        """(currency, payments, amount in minor units)."""
        return self._rows(PAYMENTS)

    def failure_counts(self) -> list[tuple[str, int]]:
        """(Stripe's failure code, failed attempts)."""
        return self._rows(FAILURES_BY_REASON)

    def three_d_secure_counts(self) -> list[tuple[str, int]]:
        """(3-D Secure result, payments)."""
        return self._rows(THREE_DS_RESULTS)

    def recovery_counts(self) -> tuple[int, int]:
        """(wins with a failed attempt, those of them paid in the end)."""
        [(failed, recovered)] = self._rows(RECOVERIES)
        return failed, recovered

    def review_counts(self) -> list[tuple[int, str | None, int]]:
        """(1 when a fraud rule flagged the payment, review status, payments)."""
        return self._rows(FRAUD_DECISIONS)

    def review_flag_counts(self) -> list[tuple[str, int]]:
        """(fraud rule, payments it flagged)."""
        return self._rows(FRAUD_FLAGS)

    def fraud_verdict_counts(self) -> list[tuple[str, str, int]]:
        """(stage, decision, verdicts) at checkout and at payment."""
        return verdict_counts(self)

    def inbox_counts(self) -> list[tuple[str, int, int]]:
        """(status, events in the webhook inbox, deliveries after each one's first)."""
        return self._rows(INBOX)

    def receipt_latencies(self) -> list[float]:
        """Seconds from each payment's record to its receipt, once per order."""
        return [row[0] for row in self._rows(RECEIPT_LATENCY)]

    def dispute_counts(self) -> list[tuple[str, int, int]]:
        """(Stripe's dispute status, disputes, amount disputed)."""
        return self._rows(DISPUTES)

    def job_counts(self) -> list[tuple[str, str, int]]:
        """(kind, state: pending, dead or done, jobs)."""
        return self._rows(JOBS)

    def alert_counts(self) -> list[tuple[str, str, int, int]]:
        """(kind, severity, 1 when acknowledged, alerts)."""
        return self._rows(ALERTS)

    def _rows(self, sql: str) -> list[tuple[Any, ...]]:
        return [tuple(row) for row in self._all_rows(sql)]
