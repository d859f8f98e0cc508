"""The payment service's Flask application.

``create_app`` wires the collaborators (the SQLite repository, the Stripe gateway, the
mailer, the receipt store, ``PaymentService``) and the blueprints; tests pass their own
clock, gateway, mailer or a fake service. Nothing is module-level state.

The webhook signing secret is ``config.stripe_webhook_secret`` when set (always so
against real Stripe). Against the sandbox the service keeps its own endpoint, registered
once and reused across restarts (``adapters/webhook_endpoint.py``).
"""

from __future__ import annotations

import logging
import threading
from datetime import timedelta
from pathlib import Path

from flask import Flask

from simulator.common.clock import Clock
from simulator.service.adapters.control_token import control_token
from simulator.service.adapters.encryption import DataCipher
from simulator.service.adapters.local_secrets import session_secret
from simulator.service.adapters.log_masking import install_log_masking
from simulator.service.adapters.mail import Mailer, MailSender
from simulator.service.adapters.receipts import ReceiptStore
from simulator.service.adapters.repositories import Repository
from simulator.service.adapters.sandbox_clock import follow_sandbox_clock
from simulator.service.adapters.stripe_gateway import StripeGateway
from simulator.service.adapters.webhook_endpoint import (
    EndpointSecrets,
    WebhookEndpoint,
    ensure_webhook_endpoint,
    stored_endpoint,
    webhook_url,
)
from simulator.service.config import ServiceConfig
from simulator.service.payments import PaymentService
from simulator.service.payments.crash_points import CrashPoints
from simulator.service.payments.events import HANDLED_EVENTS
from simulator.service.web import (
    admin,
    api,
    device,
    error_handlers,
    headers,
    limits,
    metrics,
    pages,
    templating,
    testing,
    webhooks,
    wins,
)
from simulator.service.web.runtime import ClockOffsetFile, ServiceRuntime, attach
from simulator.service.web.runtime import runtime_of as service_runtime_of

log = logging.getLogger("simulator.service")

WEB_DIR = Path(__file__).resolve().parent / "web"
MAX_BODY_BYTES = webhooks.MAX_BODY_BYTES


def create_app(config: ServiceConfig, *, clock: Clock | None = None,
               gateway: StripeGateway | None = None, mailer: MailSender | None = None,
               service: PaymentService | None = None, run_scheduler: bool = False) -> Flask:
    config.validate()
    offset = clock_offset_file(config) if clock is None and _has_test_routes(config) else None
    clock = clock or Clock(offset.read if offset else None)
    install_log_masking()
    cipher = DataCipher.from_config(config)
    repo = Repository(config.db_path, busy_timeout=config.db_busy_timeout_seconds,
                      cipher=cipher)
    gateway = gateway or StripeGateway(config, clock)
    receipts = ReceiptStore(config.receipts_dir, cipher)
    if service is None:
        service = _payment_service(config, repo, gateway, clock, mailer, receipts)
        service.schedule_upkeep()
    endpoint = None if config.stripe_webhook_secret else _webhook_endpoint(config, repo, clock)
    app = _flask_app(config)
    attach(app, ServiceRuntime.assemble(
        config=config, clock=clock, repo=repo, service=service, gateway=gateway,
        receipts=receipts, clock_offset=offset,
        webhook_secrets=EndpointSecrets(config, repo, clock, endpoint),
        test_token=control_token(config) if _has_test_routes(config) else None,
    ))
    metrics.install(app)  # /metrics, request timings, alerts to ALERT_WEBHOOK_URL
    if config.follow_sandbox_clock and not config.uses_real_stripe:
        follow_sandbox_clock(config, service_runtime_of(app).set_clock_offset)
    if run_scheduler:
        start_job_ticker(service)
    return app


def _webhook_endpoint(config: ServiceConfig, repo: Repository,
                      clock: Clock) -> WebhookEndpoint:
    """The stored endpoint when it is this URL's (``stripe-sim service`` ensured it
    before forking, so a worker starting while the sandbox is down still boots), else
    one made sure of at the sandbox now."""
    stored = stored_endpoint(repo)
    if stored is not None and stored.url == webhook_url(config):
        return stored
    return ensure_webhook_endpoint(config, repo, clock, HANDLED_EVENTS)


def _has_test_routes(config: ServiceConfig) -> bool:
    return config.test_mode or (config.follow_sandbox_clock and not config.uses_real_stripe)


def _flask_app(config: ServiceConfig) -> Flask:
    """The blueprints, the one error handler, the security headers and the rate limits.
    Sessions expire (``web/auth.py``): the cookie lives as long as a session may."""
    app = Flask(__name__, static_folder=str(WEB_DIR / "static"),
                static_url_path="/payments/static", template_folder=str(WEB_DIR / "templates"))
    app.config.update(
        SECRET_KEY=session_secret(config),
        MAX_CONTENT_LENGTH=MAX_BODY_BYTES,
        SESSION_COOKIE_NAME="payments_session",
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SECURE=config.public_url.startswith("https://"),
        PERMANENT_SESSION_LIFETIME=timedelta(seconds=config.session_lifetime_seconds),
    )
    for blueprint in (api.bp, webhooks.bp, pages.bp, admin.bp, wins.bp):
        app.register_blueprint(blueprint)
    if config.test_mode:
        app.register_blueprint(testing.bp)
    if _has_test_routes(config):
        app.register_blueprint(testing.clock_follower_bp)
    error_handlers.install(app)
    device.install(app)  # the buyer pages' device cookie, a fraud signal
    templating.install(app)
    headers.install(app, config)
    limits.install(app, config)
    return app


def _payment_service(config: ServiceConfig, repo: Repository, gateway: StripeGateway,
                     clock: Clock, mailer: MailSender | None,
                     receipts: ReceiptStore) -> PaymentService:
    """Without an SMTP server (``SMTP_HOST`` unset) mail stays queued in the outbox. In
    test mode, crash points can be armed (``/_test/faults``)."""
    mailer = mailer or Mailer.from_config(config, clock)
    crash_point = CrashPoints(repo, clock) if config.test_mode else None
    return PaymentService(repo, gateway, clock, config, mailer, receipts,
                          crash_point=crash_point)


def clock_offset_file(config: ServiceConfig) -> ClockOffsetFile:
    """Where a test-mode service keeps its clock offset: beside its database."""
    return ClockOffsetFile(f"{config.db_path}.clock.json")


# -- the scheduler ---------------------------------------------------------------------------
def start_job_ticker(service: PaymentService, every_seconds: float = 1.0) -> threading.Event:
    """Run due jobs every second in a daemon thread; set the returned event to stop.
    Jobs are claimed with a lease in the database, so one ticker per worker is safe."""
    stop = threading.Event()

    def tick() -> None:
        while not stop.wait(every_seconds):
            try:
                service.run_due_jobs()
            except Exception:  # the next tick tries again; the failure is in the log
                log.exception("scheduler tick failed")

    threading.Thread(target=tick, name="payment-scheduler", daemon=True).start()
    return stop
