"""``GET /metrics`` (Prometheus text format), the request timings behind its latency
histograms, and the wiring that forwards alerts to ``ALERT_WEBHOOK_URL``.

Who may read it: the figures are the business's (revenue, failures, fraud), so a
scraper sends ``Authorization: Bearer <METRICS_TOKEN>``, or an admin's API token (or an
admin's signed-in session). Only a test-mode service answers loopback callers with no
``Authorization`` header, so a local demo can be scraped as it is.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging

from flask import Blueprint, Flask, Response, current_app, g, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from simulator.common.clock import monotonic
from simulator.service.adapters.alert_webhook import AlertReceiver
from simulator.service.scheduler import DELIVER_ALERT
from simulator.service.web.auth import require_admin
from simulator.service.web.runtime import ServiceRuntime, runtime_of, service_runtime

log = logging.getLogger("simulator.service.metrics")

bp = Blueprint("metrics", __name__)
REGISTRY = "payment_metrics"
# The requests whose duration is kept: endpoint -> (metric, label).
TIMED_ENDPOINTS = {
    "api.create_checkout": ("checkout_create", "api"),
    "api.retry_checkout": ("checkout_create", "api_retry"),
    "pages.pay": ("checkout_create", "page"),
    "pages.retry": ("checkout_create", "page_retry"),
    "webhooks.receive_stripe_event": ("webhook_processing", ""),
}


def install(app: Flask) -> None:
    """The /metrics route and its collector; alerts forwarded as jobs when a receiver
    is configured (and no longer when it is not)."""
    rt = runtime_of(app)
    registry = CollectorRegistry(auto_describe=False)
    registry.register(rt.monitoring.collector())
    app.extensions[REGISTRY] = registry
    app.register_blueprint(bp)
    receiver = AlertReceiver.from_config(rt.config)  # a wrong format refuses to start
    rt.monitoring.forward_alerts_as_jobs(DELIVER_ALERT if receiver is not None else None)


@bp.get("/metrics")
def metrics() -> Response:
    _authorize(service_runtime())
    body = generate_latest(current_app.extensions[REGISTRY])
    return Response(body, mimetype=CONTENT_TYPE_LATEST)


def _authorize(rt: ServiceRuntime) -> None:
    header = request.headers.get("Authorization")
    token = rt.config.metrics_token
    if token and header and hmac.compare_digest(header.encode(), f"Bearer {token}".encode()):
        return
    if header is None and rt.config.test_mode and _loopback(request.remote_addr):
        return
    require_admin()


def _loopback(address: str | None) -> bool:
    try:
        return ipaddress.ip_address(address or "").is_loopback
    except ValueError:
        return False


# -- request timings ---------------------------------------------------------------------------
@bp.before_app_request
def _start_timer() -> None:
    if request.endpoint in TIMED_ENDPOINTS:
        g.metrics_started = monotonic()


@bp.after_app_request
def _record_duration(response: Response) -> Response:
    started = g.pop("metrics_started", None)
    if started is None:
        return response
    seconds = monotonic() - started
    metric, label = TIMED_ENDPOINTS[str(request.endpoint)]
    label = label or _outcome(response.status_code)
    try:
        service_runtime().monitoring.observe_latency(metric, label, seconds)
    except Exception:  # a metric is never worth failing the request it measured
        log.exception("could not record the duration of %s", request.endpoint)
    return response


def _outcome(status: int) -> str:
    """A webhook answered 2xx was processed; 5xx failed (Stripe retries); 4xx refused."""
    if status < 300:
        return "processed"
    return "failed" if status >= 500 else "refused"
