"""Alerts sent to a human's pager or chat: a Slack incoming webhook
(https://api.slack.com/messaging/webhooks, ``{"text": ...}``) or PagerDuty's Events
API v2 (https://developer.pagerduty.com/docs/events-api-v2/trigger-events/).

Each alert is delivered by its own durable job (``deliver_alert``, ref: the alert's id),
queued in the alert's own transaction (``Repository.forward_alerts_as_jobs``): a
receiver that is down is retried with the scheduler's backoff, and never holds up the
payment that raised the alert.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

import requests

from simulator.service.config import ConfigError, ServiceConfig
from simulator.service.domain.alerts import Alert

Format = Literal["slack", "pagerduty"]
FORMATS = ("slack", "pagerduty")
TIMEOUT_SECONDS = 5.0
SLACK_MARKS = {"info": ":information_source:", "warning": ":warning:",
               "critical": ":rotating_light:"}
PAGERDUTY_SUMMARY_CHARS = 1024  # the Events API's limit


class AlertNotDelivered(Exception):
    """The receiver did not take the alert (no answer, or not a 2xx): retried later."""


def slack_body(alert: Alert, source: str) -> dict[str, Any]:
    mark = SLACK_MARKS.get(alert.severity, "")
    return {"text": f"{mark} [{alert.severity}] {alert.kind} on {source}: {alert.message}"}


def pagerduty_body(alert: Alert, source: str, routing_key: str) -> dict[str, Any]:
    """A trigger event; the dedup key folds repeats of one problem into one incident."""
    return {
        "routing_key": routing_key,
        "event_action": "trigger",
        "dedup_key": f"{alert.kind}:{alert.subject_id or ''}",
        "payload": {
            "summary": alert.message[:PAGERDUTY_SUMMARY_CHARS],
            "severity": alert.severity,
            "source": source,
            "timestamp": datetime.fromtimestamp(alert.at, tz=UTC).isoformat(),
            "component": "payments",
            "class": alert.kind,
        },
    }


@dataclass(frozen=True)
class AlertReceiver:
    url: str
    format: Format
    source: str
    routing_key: str = ""

    @classmethod
    def from_config(cls, config: ServiceConfig) -> AlertReceiver | None:
        """None when no receiver is configured (alerts stay on the admin page)."""
        if not config.alert_webhook_url:
            return None
        fmt = config.alert_webhook_format
        if fmt not in FORMATS:
            raise ConfigError(f"ALERT_WEBHOOK_FORMAT must be one of {', '.join(FORMATS)}")
        if fmt == "pagerduty" and not config.alert_pagerduty_routing_key:
            raise ConfigError("ALERT_PAGERDUTY_ROUTING_KEY is required for PagerDuty")
        return cls(config.alert_webhook_url, fmt,  # type: ignore[arg-type]
                   config.public_url, config.alert_pagerduty_routing_key)

    def body(self, alert: Alert) -> dict[str, Any]:
        if self.format == "pagerduty":
            return pagerduty_body(alert, self.source, self.routing_key)
        return slack_body(alert, self.source)

    def send(self, alert: Alert) -> None:
        try:
            response = requests.post(self.url, json=self.body(alert), timeout=TIMEOUT_SECONDS)
        except requests.RequestException as error:
            raise AlertNotDelivered(f"{self.url}: {type(error).__name__}") from error
        if not 200 <= response.status_code < 300:
            raise AlertNotDelivered(f"{self.url} answered {response.status_code}")
