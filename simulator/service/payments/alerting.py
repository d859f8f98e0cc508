"""Alerts that leave the service: each recorded alert delivered to the configured
receiver by its own job, and the failure-rate rule checked after each failed payment."""

from __future__ import annotations

from simulator.service.adapters.alert_webhook import AlertReceiver
from simulator.service.domain.alert_rules import FailureRateRule
from simulator.service.domain.jobs import Job
from simulator.service.payments.context import PaymentContext
from simulator.service.scheduler import DELIVER_ALERT

# The audit actions that end a payment attempt, counted by the failure-rate rule.
FAILED, SUCCEEDED = "payment_session.failed", "payment_session.succeeded"


def deliver_alert(ctx: PaymentContext, job: Job) -> float | None:
    """Send one alert; a receiver that fails raises, and the scheduler retries with
    backoff. A delivery job given up is not itself forwarded (it would page forever)."""
    receiver = AlertReceiver.from_config(ctx.config)
    alert = ctx.repo.get_alert(int(job.ref))
    if receiver is None or alert is None:
        return None
    if alert.kind == "job_failed" and (alert.subject_id or "").startswith(f"{DELIVER_ALERT}:"):
        return None
    receiver.send(alert)
    return None


def failure_rate_rule(ctx: PaymentContext) -> FailureRateRule:
    config = ctx.config
    return FailureRateRule(config.alert_failure_rate, config.alert_failure_window_seconds,
                           config.alert_failure_min_payments)


def check_failure_rate(ctx: PaymentContext, job: Job) -> float | None:
    """Payments failed and succeeded in the window (from the audit log, so every
    worker's outcomes count); one alert per window while the rate stays high."""
    rule = failure_rate_rule(ctx)
    now = ctx.clock.timestamp()
    since = now - rule.window_seconds
    counts = ctx.repo.audit_action_counts(since, (FAILED, SUCCEEDED))
    alert = rule.alert(counts.get(FAILED, 0), counts.get(SUCCEEDED, 0), now)
    if alert is not None:
        ctx.repo.add_alert(alert, unless_since=since)
    return None
