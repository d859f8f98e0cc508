"""Rate limits (Flask-Limiter): sign-in, checkout create, retry and the webhook endpoint
answer 429 with ``Retry-After`` once a client asks too often.

Limits are per client address and, with the default in-memory storage, per worker
process: a service under gunicorn with N workers lets up to N times a limit through
before every worker refuses (set ``SERVICE_RATE_LIMIT_STORAGE`` to a shared store such as
``redis://…`` to count once). Failed sign-ins are also counted per e-mail address, so
guessing one account's password from many addresses stops too. ``SERVICE_RATE_LIMITS``
is ``on``, ``off`` or ``auto`` (on, except in test mode, where the BDD features and the
load tests would trip them). Each refusal is counted as a security event.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, request
from flask_limiter import Limiter, RequestLimit
from flask_limiter.util import get_remote_address
from werkzeug.wrappers import Response

from simulator.service.config import ServiceConfig
from simulator.service.web import security_log

# endpoint → the config field holding its limit
LIMITED_ENDPOINTS = {
    "pages.sign_in_as": "sign_in_limit",
    "api.create_checkout": "checkout_limit",
    "pages.pay": "checkout_limit",
    "api.retry_checkout": "retry_limit",
    "pages.retry": "retry_limit",
    "webhooks.receive_stripe_event": "webhook_limit",
}


def limits_enabled(config: ServiceConfig) -> bool:
    setting = config.rate_limits.strip().lower()
    if setting in ("on", "true", "1", "yes"):
        return True
    if setting in ("off", "false", "0", "no"):
        return False
    return not config.test_mode


def _record_breach(limit: RequestLimit) -> None:
    security_log.count("rate_limited", f"{request.method} {request.path} ({limit.limit})")


def _sign_in_email() -> str:
    return "sign-in:" + request.form.get("email", "").strip().lower()[:320]


def _sign_in_failed(response: Response) -> bool:
    return response.status_code == 401


def install(app: Flask, config: ServiceConfig) -> Limiter | None:
    """The limits on their endpoints (the blueprints are registered already)."""
    if not limits_enabled(config):
        return None
    limiter = Limiter(get_remote_address, app=app, storage_uri=config.rate_limit_storage,
                      headers_enabled=True, on_breach=_record_breach, strategy="fixed-window")
    for endpoint, setting in LIMITED_ENDPOINTS.items():
        view: Any = limiter.limit(getattr(config, setting))(app.view_functions[endpoint])
        if endpoint == "pages.sign_in_as":
            view = limiter.limit(config.sign_in_failures_per_account, key_func=_sign_in_email,
                                 deduct_when=_sign_in_failed)(view)
        app.view_functions[endpoint] = view
    return limiter
