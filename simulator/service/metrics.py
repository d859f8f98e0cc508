"""The payment service's Prometheus metrics, derived from the database at scrape time.

The service runs as several gunicorn workers, each with its own memory: counters kept in
one process would disagree from scrape to scrape. Everything here is read from the rows
every worker writes (sessions, transactions, orders, the audit log, the webhook inbox,
jobs, alerts), so any worker answers the same, and a restart loses nothing. Each figure
is a named query of the storage (``MetricsStore``, ``adapters/storage/metrics.py``). Request
latencies are counted into histogram buckets in the ``latency_buckets`` table by
``web/metrics.py`` (one small upsert per timed request). Test mode's reset clears them
all; Prometheus treats the drop as a counter reset.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from typing import Protocol

from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from simulator.service.config import ServiceConfig
from simulator.service.domain.three_d_secure import ThreeDSecurePolicy

PREFIX = "payments"
# Request latencies (seconds): the bounds of the histogram buckets ``web/metrics.py`` fills.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
# From a payment's record to its receipt PDF being ready (seconds, the service clock).
RECEIPT_BUCKETS = (1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0)
INF = "+Inf"
# Stripe's codes for a payment the bank's 3-D Secure check did not let through
# (https://docs.stripe.com/error-codes#payment-intent-authentication-failure).
THREE_DS_FAILURES = ("payment_intent_authentication_failure", "authentication_required")

def bucket_of(seconds: float, bounds: Sequence[float] = LATENCY_BUCKETS) -> str:
    """The bucket a duration is counted in: the smallest bound it does not exceed."""
    return next((repr(bound) for bound in bounds if seconds <= bound), INF)


def cumulative(counts: dict[str, int], bounds: Sequence[float]) -> list[tuple[str, float]]:
    """Prometheus buckets are cumulative: each ``le`` counts everything at or below it."""
    running, buckets = 0, []
    for bound in [*(repr(b) for b in bounds), INF]:
        running += counts.get(bound, 0)
        buckets.append((bound, float(running)))
    return buckets


class MetricsStore(Protocol):
    """The aggregates the collector reads, each a named query of the storage
    (``adapters/storage/metrics.py``): rows of ``(label..., count)``."""

    def checkout_counts(self) -> list[tuple[str, int, int, int]]: ...

    def session_counts(self) -> list[tuple[str, int]]: ...

    def order_counts(self) -> list[tuple[str, int]]: ...

    def payment_totals(self) -> list[tuple[str, int, int]]: ...

    def failure_counts(self) -> list[tuple[str, int]]: ...

    def three_d_secure_counts(self) -> list[tuple[str, int]]: ...

    def recovery_counts(self) -> tuple[int, int]: ...

    def review_counts(self) -> list[tuple[int, str | None, int]]: ...

    def review_flag_counts(self) -> list[tuple[str, int]]: ...

    def fraud_verdict_counts(self) -> list[tuple[str, str, int]]: ...

    def inbox_counts(self) -> list[tuple[str, int, int]]: ...

    def receipt_latencies(self) -> list[float]: ...

    def dispute_counts(self) -> list[tuple[str, int, int]]: ...

    def job_counts(self) -> list[tuple[str, str, int]]: ...

    def alert_counts(self) -> list[tuple[str, str, int, int]]: ...

    def latency_buckets(self) -> list[tuple[str, str, str, int, float]]: ...


class PaymentMetrics(Collector):
    """A ``prometheus_client`` collector whose every figure is one aggregate query."""

    def __init__(self, store: MetricsStore, config: ServiceConfig) -> None:
        self.store = store
        self.three_d_secure = ThreeDSecurePolicy(dict(config.three_d_secure_thresholds))

    def collect(self) -> Iterator[Metric]:
        yield from self._checkouts()
        yield from self._payments()
        yield from self._three_d_secure()
        yield from self._recoveries()
        yield from self._fraud()
        yield from self._webhooks()
        yield from self._jobs_and_alerts()
        yield from self._latencies()
        yield self._receipt_latency()

    def _checkouts(self) -> Iterable[Metric]:
        created = CounterMetricFamily(f"{PREFIX}_checkouts_created",
                                      "Checkout Sessions created at Stripe.", labels=["attempt"])
        retries = CounterMetricFamily(f"{PREFIX}_retries",
                                      "Checkout Sessions created for a second or later attempt.")
        by_attempt: dict[str, int] = defaultdict(int)
        for _currency, _amount, is_retry, count in self.store.checkout_counts():
            by_attempt["retry" if is_retry else "first"] += count
        for attempt in ("first", "retry"):
            created.add_metric([attempt], by_attempt[attempt])
        retries.add_metric([], by_attempt["retry"])
        sessions = GaugeMetricFamily(f"{PREFIX}_sessions", "Payment sessions by status.",
                                     labels=["status"])
        for status, count in self.store.session_counts():
            sessions.add_metric([status], count)
        orders = GaugeMetricFamily(f"{PREFIX}_orders", "Orders by status.", labels=["status"])
        for status, count in self.store.order_counts():
            orders.add_metric([status], count)
        return [created, retries, sessions, orders]

    def _payments(self) -> Iterable[Metric]:
        succeeded = CounterMetricFamily(f"{PREFIX}_succeeded", "Payments recorded (one per"
                                        " PaymentIntent that succeeded).", labels=["currency"])
        revenue = CounterMetricFamily(f"{PREFIX}_revenue_minor_units", "Amount paid, in the"
                                      " currency's minor units.", labels=["currency"])
        for currency, count, amount in self.store.payment_totals():
            succeeded.add_metric([currency], count)
            revenue.add_metric([currency], amount)
        failed = CounterMetricFamily(f"{PREFIX}_failed", "Failed payment attempts, by Stripe's"
                                     " decline or failure code.", labels=["reason"])
        for reason, count in self.store.failure_counts():
            failed.add_metric([str(reason)], count)
        disputes = GaugeMetricFamily(f"{PREFIX}_disputes", "Disputed payments, by Stripe's"
                                     " dispute status.", labels=["status"])
        for status, count, _amount in self.store.dispute_counts():
            disputes.add_metric([str(status)], count)
        return [succeeded, revenue, failed, disputes]

    def _three_d_secure(self) -> Iterable[Metric]:
        """Requested: checkouts over the 3-D Secure threshold (the service asks Checkout
        to authenticate those); completed: payments the bank authenticated; failed:
        attempts that failed authentication."""
        family = CounterMetricFamily(f"{PREFIX}_three_d_secure", "3-D Secure, by outcome.",
                                     labels=["outcome"])
        requested = sum(count for currency, amount, _retry, count in self.store.checkout_counts()
                        if self.three_d_secure.requests_3ds(amount, currency))
        results = dict(self.store.three_d_secure_counts())
        failures = dict(self.store.failure_counts())
        family.add_metric(["requested"], requested)
        family.add_metric(["completed"], results.get("authenticated", 0))
        family.add_metric(["failed"], sum(failures.get(code, 0) for code in THREE_DS_FAILURES))
        return [family]

    def _recoveries(self) -> Iterable[Metric]:
        failed, recovered = self.store.recovery_counts()
        wins = CounterMetricFamily(f"{PREFIX}_failed_wins", "Wins with a failed payment"
                                   " attempt.")
        wins.add_metric([], failed)
        recoveries = CounterMetricFamily(f"{PREFIX}_recoveries", "Wins with a failed attempt"
                                         " that were paid in the end.")
        recoveries.add_metric([], recovered)
        return [wins, recoveries]

    def _fraud(self) -> Iterable[Metric]:
        decisions = CounterMetricFamily(f"{PREFIX}_fraud_decisions", "Fraud rules' decision on"
                                        " each payment (allow, or review: held for a human).",
                                        labels=["decision"])
        reviews = GaugeMetricFamily(f"{PREFIX}_fraud_reviews", "Payments held for review, by"
                                    " review status.", labels=["status"])
        totals: dict[str, int] = defaultdict(int)
        for flagged, status, count in self.store.review_counts():
            totals["review" if flagged else "allow"] += count
            if flagged:
                reviews.add_metric([str(status)], count)
        for decision in ("allow", "review"):
            decisions.add_metric([decision], totals[decision])
        flags = CounterMetricFamily(f"{PREFIX}_fraud_flags", "Payments flagged, by rule.",
                                    labels=["rule"])
        for rule, count in self.store.review_flag_counts():
            flags.add_metric([str(rule)], count)
        verdicts = CounterMetricFamily(f"{PREFIX}_fraud_verdicts", "Fraud verdicts (allow,"
                                       " review, block) at checkout and at payment.",
                                       labels=["stage", "decision"])
        for stage, decision, count in self.store.fraud_verdict_counts():
            verdicts.add_metric([stage, decision], count)
        return [decisions, reviews, flags, verdicts]

    def _webhooks(self) -> Iterable[Metric]:
        events = GaugeMetricFamily(f"{PREFIX}_webhook_events", "Stripe events in the inbox, by"
                                   " processing status.", labels=["status"])
        redeliveries = CounterMetricFamily(f"{PREFIX}_webhook_redeliveries", "Deliveries of"
                                           " an event after its first.")
        again = 0
        for status, count, extra in self.store.inbox_counts():
            events.add_metric([status], count)
            again += extra
        redeliveries.add_metric([], again)
        return [events, redeliveries]

    def _jobs_and_alerts(self) -> Iterable[Metric]:
        jobs = GaugeMetricFamily(f"{PREFIX}_jobs", "Scheduled jobs by kind and state (dead:"
                                 " given up after its retries).", labels=["kind", "state"])
        for kind, state, count in self.store.job_counts():
            if state != "done":
                jobs.add_metric([kind, state], count)
        raised = CounterMetricFamily(f"{PREFIX}_alerts", "Alerts raised.",
                                     labels=["kind", "severity"])
        open_alerts = GaugeMetricFamily(f"{PREFIX}_alerts_open", "Alerts not acknowledged.",
                                        labels=["kind", "severity"])
        totals: dict[tuple[str, str], int] = defaultdict(int)
        for kind, severity, acknowledged, count in self.store.alert_counts():
            totals[(kind, severity)] += count
            if not acknowledged:
                open_alerts.add_metric([kind, severity], count)
        for (kind, severity), count in sorted(totals.items()):
            raised.add_metric([kind, severity], count)
        return [jobs, raised, open_alerts]

    def _latencies(self) -> Iterable[Metric]:
        series: dict[tuple[str, str], dict[str, int]] = defaultdict(dict)
        sums: dict[tuple[str, str], float] = defaultdict(float)
        for metric, label, le, count, total in self.store.latency_buckets():
            series[(metric, label)][le] = count
            sums[(metric, label)] += total
        families = {name: HistogramMetricFamily(f"{PREFIX}_{name}_seconds", text,
                                                labels=[label])
                    for name, (text, label) in TIMED.items()}
        for (metric, label), counts in sorted(series.items()):
            if metric in families:
                families[metric].add_metric([label], cumulative(counts, LATENCY_BUCKETS),
                                            sums[(metric, label)])
        return list(families.values())

    def _receipt_latency(self) -> Metric:
        family = HistogramMetricFamily(
            f"{PREFIX}_receipt_ready_seconds",
            "From a payment's record to its receipt PDF being ready (service clock).")
        counts: dict[str, int] = defaultdict(int)
        total = 0.0
        for seconds in self.store.receipt_latencies():
            counts[bucket_of(max(0.0, float(seconds)), RECEIPT_BUCKETS)] += 1
            total += max(0.0, float(seconds))
        family.add_metric([], cumulative(counts, RECEIPT_BUCKETS), total)
        return family


# The request latencies ``web/metrics.py`` records: metric -> (help, label name).
TIMED = {
    "checkout_create": ("Time to answer a request that starts or retries a checkout"
                        " (including Stripe's Checkout Session create).", "route"),
    "webhook_processing": ("Time to verify, store and process a Stripe webhook delivery.",
                           "outcome"),
}

