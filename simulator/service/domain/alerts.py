"""Alerts for a human: rows in the ``alerts`` table, shown on the admin page."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal[
    "circuit_open", "handler_failure", "webhook_signature_failures", "review_needed",
    "late_payment", "duplicate_payment", "job_failed", "mail_failed", "receipt_tampered",
    "payment_failure_rate", "dispute_opened", "dispute_lost", "sms_failed",
]
Severity = Literal["info", "warning", "critical"]


@dataclass(frozen=True)
class Alert:
    kind: Kind
    severity: Severity
    message: str
    at: int
    subject_id: str | None = None


@dataclass(frozen=True)
class SignatureFailureBurst:
    """Many webhook deliveries with a bad signature in a short time: a misconfigured
    secret or someone probing the endpoint."""

    threshold: int = 10
    window_seconds: int = 300

    def is_burst(self, failures_in_window: int) -> bool:
        return failures_in_window >= self.threshold

    def alert(self, failures_in_window: int, at: int) -> Alert:
        return Alert("webhook_signature_failures", "warning",
                     f"{failures_in_window} webhook deliveries with an invalid signature in"
                     f" {self.window_seconds // 60} minutes.", at)
