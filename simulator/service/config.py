"""The payment service's settings, from the environment or a git-ignored local file.

Secrets (the Stripe key, the webhook signing secret, the session key) are never in the
code. With ``STRIPE_SECRET_KEY=sk_test_…`` and no ``STRIPE_API_BASE`` the service talks to
real Stripe in test mode; otherwise to the local sandbox.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

SANDBOX_API_BASE = "http://127.0.0.1:12111"
SANDBOX_KEY = "sk_test_local_sandbox_service"
LOCAL_CONFIG_FILE = "stripe-sim.local.json"


class ConfigError(ValueError):
    pass


@dataclass
class ServiceConfig:
    stripe_secret_key: str = SANDBOX_KEY
    stripe_api_base: str | None = SANDBOX_API_BASE
    stripe_webhook_secret: str | None = None
    db_path: str = ".sandbox/service.sqlite3"
    public_url: str = "http://127.0.0.1:8000"
    session_secret: str = ""
    payment_window_hours: int = 24
    max_retries: int = 3
    reminder_hours: tuple[int, ...] = (1, 6, 18)
    reminder_jitter_seconds: int = 300
    # Amounts above which the Checkout Session requests 3-D Secure, per currency (minor units).
    three_d_secure_thresholds: dict[str, int] = field(
        default_factory=lambda: {"usd": 50_000, "eur": 50_000, "gbp": 40_000}
    )
    stripe_timeout_seconds: float = 10.0
    stripe_max_attempts: int = 4
    circuit_failure_threshold: int = 5
    circuit_reset_seconds: float = 60.0
    smtp_host: str | None = None
    smtp_port: int = 25
    mail_from: str = "payments@auction.test"
    # The local SMS provider's outbox, a JSON-lines file (``adapters/sms.py``); without
    # it text messages stay queued, visible to an admin.
    sms_outbox: str | None = None
    receipts_dir: str = ".sandbox/receipts"
    test_mode: bool = False
    merchant_name: str = "Lot & Hammer Auctions"
    # The auction system's shared secret for ``POST /payments/wins`` (unset: route refused).
    auction_api_token: str | None = None
    # How often (service clock) open payment sessions are compared with Stripe's.
    reconcile_interval_seconds: int = 120
    # How long (wall clock) a worker owns an inbox event it is processing.
    inbox_lease_seconds: float = 60.0
    # Test mode against the sandbox: one time for both (``adapters/sandbox_clock.py``).
    follow_sandbox_clock: bool = False
    # How long a request waits for another writer before answering 503.
    db_busy_timeout_seconds: float = 10.0
    # Encryption at rest (``adapters/encryption.py``): Fernet keys, newest first, comma-
    # separated; unset: the key file (default ``<db>.key``, made owner-only on first use).
    data_key: str | None = None
    data_key_file: str | None = None
    # The test routes (``web/testing.py``) need this in ``X-Test-Token`` (or a signed-in
    # admin); unset: a token made once and kept owner-only in ``<db>.test-token``.
    test_token: str | None = None
    # Signed-in browser sessions end after this long, or after this long unused (wall clock).
    session_lifetime_seconds: int = 8 * 3600
    session_idle_seconds: int = 3600
    # Rate limits (``web/limits.py``, Flask-Limiter, per client address and per worker
    # process): "on", "off", or "auto" (on, except in test mode). Each limit is Flask-
    # Limiter's notation, e.g. "10 per minute; 100 per hour".
    rate_limits: str = "auto"
    sign_in_limit: str = "10 per minute; 100 per hour"
    sign_in_failures_per_account: str = "5 per 15 minutes"
    checkout_limit: str = "30 per minute"
    retry_limit: str = "30 per minute"
    webhook_limit: str = "1200 per minute"
    rate_limit_storage: str = "memory://"
    # Monitoring (``web/metrics.py``): ``Authorization: Bearer <metrics_token>`` may read
    # /metrics (so may an admin; in test mode, loopback without a token).
    metrics_token: str | None = None
    # Alerts forwarded to a receiver (``adapters/alert_webhook.py``): "slack" (incoming
    # webhook) or "pagerduty" (Events API v2, with its routing key). Unset: admin page only.
    alert_webhook_url: str | None = None
    alert_webhook_format: str = "slack"
    alert_pagerduty_routing_key: str = ""
    # The payment failure-rate alert: over this share of outcomes in the window, once at
    # least ``alert_failure_min_payments`` payments ended there.
    alert_failure_rate: float = 0.5
    alert_failure_window_seconds: int = 900
    alert_failure_min_payments: int = 10
    # Fraud rules' thresholds by name (``domain/fraud/policy.py``, ``FraudPolicy``), e.g.
    # {"device_buyers_per_day": [3, 5], "trusted_networks": []}; unset: the defaults.
    fraud: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def uses_real_stripe(self) -> bool:
        return self.stripe_api_base is None

    def validate(self) -> None:
        key = self.stripe_secret_key
        if not key.startswith(("sk_test_", "rk_test_")):
            raise ConfigError("STRIPE_SECRET_KEY must be a test-mode key (sk_test_...)")
        if self.uses_real_stripe and not self.stripe_webhook_secret:
            raise ConfigError("STRIPE_WEBHOOK_SECRET is required against real Stripe")


ENVIRONMENT = {
    "STRIPE_SECRET_KEY": "stripe_secret_key",
    "STRIPE_API_BASE": "stripe_api_base",
    "STRIPE_WEBHOOK_SECRET": "stripe_webhook_secret",
    "SERVICE_DB": "db_path",
    "SERVICE_PUBLIC_URL": "public_url",
    "SERVICE_SESSION_SECRET": "session_secret",
    "SMTP_HOST": "smtp_host",
    "SMTP_PORT": "smtp_port",
    "MAIL_FROM": "mail_from",
    "SMS_OUTBOX": "sms_outbox",
    "RECEIPTS_DIR": "receipts_dir",
    "SERVICE_TEST_MODE": "test_mode",
    "MAX_PAYMENT_RETRIES": "max_retries",
    "AUCTION_API_TOKEN": "auction_api_token",
    "SERVICE_RECONCILE_SECONDS": "reconcile_interval_seconds",
    "SERVICE_REMINDER_JITTER_SECONDS": "reminder_jitter_seconds",
    "SERVICE_DATA_KEY": "data_key",
    "SERVICE_DATA_KEY_FILE": "data_key_file",
    "SERVICE_TEST_TOKEN": "test_token",
    "SERVICE_SESSION_LIFETIME_SECONDS": "session_lifetime_seconds",
    "SERVICE_SESSION_IDLE_SECONDS": "session_idle_seconds",
    "SERVICE_RATE_LIMITS": "rate_limits",
    "SERVICE_SIGN_IN_LIMIT": "sign_in_limit",
    "SERVICE_CHECKOUT_LIMIT": "checkout_limit",
    "SERVICE_RETRY_LIMIT": "retry_limit",
    "SERVICE_WEBHOOK_LIMIT": "webhook_limit",
    "SERVICE_RATE_LIMIT_STORAGE": "rate_limit_storage",
    "METRICS_TOKEN": "metrics_token",
    "ALERT_WEBHOOK_URL": "alert_webhook_url",
    "ALERT_WEBHOOK_FORMAT": "alert_webhook_format",
    "ALERT_PAGERDUTY_ROUTING_KEY": "alert_pagerduty_routing_key",
    "ALERT_FAILURE_RATE": "alert_failure_rate",
    "ALERT_FAILURE_WINDOW_SECONDS": "alert_failure_window_seconds",
    "ALERT_FAILURE_MIN_PAYMENTS": "alert_failure_min_payments",
    "SERVICE_FRAUD": "fraud",  # a JSON object of FraudPolicy overrides
}


def load_config(environ: dict[str, str] | None = None, local_file: str | None = None,
                **overrides: Any) -> ServiceConfig:
    """Defaults, then the local JSON file (git-ignored), then the environment, then
    explicit overrides. A real ``sk_test_`` key with no API base means real Stripe."""
    environ = dict(os.environ if environ is None else environ)
    values: dict[str, Any] = {}
    path = Path(local_file or LOCAL_CONFIG_FILE)
    if path.exists():
        values.update(json.loads(path.read_text()))
    for variable, name in ENVIRONMENT.items():
        if variable in environ:
            values[name] = environ[variable]
    if "stripe_secret_key" in values and "stripe_api_base" not in values:
        values["stripe_api_base"] = None  # a key of one's own and no sandbox: real Stripe
    values.update(overrides)
    config = ServiceConfig(**_typed(values))
    config.validate()
    return config


def _typed(values: dict[str, Any]) -> dict[str, Any]:
    kinds = {f.name: f.type for f in fields(ServiceConfig)}
    typed: dict[str, Any] = {}
    for name, value in values.items():
        if name not in kinds:
            raise ConfigError(f"unknown setting: {name}")
        kind = str(kinds[name])
        if isinstance(value, str) and kind.startswith("int"):
            value = int(value)
        elif isinstance(value, str) and kind.startswith("float"):
            value = float(value)
        elif isinstance(value, str) and kind == "bool":
            value = value.lower() in ("1", "true", "yes")
        elif isinstance(value, str) and kind.startswith("dict"):
            value = _json_object(name, value)
        typed[name] = value
    return typed


def _json_object(name: str, text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError:
        value = None
    if not isinstance(value, dict):
        raise ConfigError(f"{name} must be a JSON object, e.g. {{\"card_buyers\": [4, 8]}}")
    return value
