"""The payment service's Flask application.

``create_app`` wires the collaborators (the SQLite repository, the Stripe gateway, the
mailer, the receipt store, ``PaymentService``) and the blueprints; tests pass their own
clock, gateway, mailer or a fake service. Nothing is module-level state.

The webhook signing secret is ``config.stripe_webhook_secret`` when set (always so
against real Stripe). Against the sandbox the service registers its own endpoint at
start-up through the SDK, as ``stripe listen`` would, and keeps the ``whsec_`` secret
that only the create call returns (https://docs.stripe.com/api/webhook_endpoints/create).
"""

from __future__ import annotations

import dataclasses
import logging
import secrets
import threading
from pathlib import Path
from typing import Any

import stripe
from flask import Flask

from simulator.common.clock import Clock
from simulator.service.adapters.mail import Mailer, MailSender
from simulator.service.adapters.receipts import ReceiptStore
from simulator.service.adapters.repositories import Repository
from simulator.service.adapters.stripe_gateway import StripeGateway
from simulator.service.config import ServiceConfig
from simulator.service.payments import PaymentService
from simulator.service.web import admin, api, errors, pages, templating, testing, webhooks
from simulator.service.web.runtime import ClockOffsetFile, ServiceRuntime, attach

log = logging.getLogger("simulator.service")

WEB_DIR = Path(__file__).resolve().parent / "web"
MAX_BODY_BYTES = webhooks.MAX_BODY_BYTES
ENDPOINT_MARKER = {"registered_by": "stripe-sim service"}


def create_app(config: ServiceConfig, *, clock: Clock | None = None,
               gateway: StripeGateway | None = None, mailer: MailSender | None = None,
               service: PaymentService | None = None, run_scheduler: bool = False) -> Flask:
    config.validate()
    offset = clock_offset_file(config) if clock is None and config.test_mode else None
    clock = clock or Clock(offset.read if offset else None)
    repo = Repository(config.db_path)
    gateway = gateway or StripeGateway(config, clock)
    receipts = ReceiptStore(config.receipts_dir)
    if service is None:
        service = _payment_service(config, repo, gateway, clock, mailer, receipts)
    endpoint = None if config.stripe_webhook_secret else register_webhook_endpoint(config)
    app = _flask_app(config)
    attach(app, ServiceRuntime(
        config=config, clock=clock, repo=repo, service=service, gateway=gateway,
        receipts=receipts, clock_offset=offset,
        webhook_secret=endpoint.secret if endpoint else config.stripe_webhook_secret,
        webhook_endpoint_id=endpoint.id if endpoint else None,
    ))
    if run_scheduler:
        start_job_ticker(service)
    return app


def _flask_app(config: ServiceConfig) -> Flask:
    app = Flask(__name__, static_folder=str(WEB_DIR / "static"),
                static_url_path="/payments/static", template_folder=str(WEB_DIR / "templates"))
    app.config.update(
        SECRET_KEY=config.session_secret or secrets.token_hex(32),
        MAX_CONTENT_LENGTH=MAX_BODY_BYTES,
        SESSION_COOKIE_NAME="payments_session",
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=config.public_url.startswith("https://"),
    )
    for blueprint in (api.bp, webhooks.bp, pages.bp, admin.bp):
        app.register_blueprint(blueprint)
    if config.test_mode:
        app.register_blueprint(testing.bp)
    errors.install(app)
    templating.install(app)
    return app


def _payment_service(config: ServiceConfig, repo: Repository, gateway: StripeGateway,
                     clock: Clock, mailer: MailSender | None,
                     receipts: ReceiptStore) -> PaymentService:
    """Without an SMTP server (``SMTP_HOST`` unset) mail stays queued in the outbox."""
    mailer = mailer or Mailer.from_config(config, clock)
    return PaymentService(repo, gateway, clock, config, mailer, receipts)


def clock_offset_file(config: ServiceConfig) -> ClockOffsetFile:
    """Where a test-mode service keeps its clock offset: beside its database."""
    return ClockOffsetFile(f"{config.db_path}.clock.json")


# -- the webhook endpoint --------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class RegisteredEndpoint:
    id: str
    url: str
    secret: str


def webhook_url(config: ServiceConfig) -> str:
    return f"{config.public_url.rstrip('/')}{webhooks.WEBHOOK_PATH}"


def register_webhook_endpoint(config: ServiceConfig) -> RegisteredEndpoint:
    """Create this service's endpoint at the sandbox, replacing any endpoint an earlier
    run registered for the same URL (its secret is gone with that run)."""
    if config.uses_real_stripe:
        raise RuntimeError("against real Stripe set STRIPE_WEBHOOK_SECRET instead")
    client = stripe_client(config)
    url = webhook_url(config)
    for stale in client.v1.webhook_endpoints.list(params={"limit": 100}).auto_paging_iter():
        metadata = stale.to_dict().get("metadata") or {}
        if stale.url == url and metadata == ENDPOINT_MARKER:
            client.v1.webhook_endpoints.delete(stale.id)
    params: Any = {"url": url, "enabled_events": list(webhooks.HANDLED_EVENTS),
                   "description": "Payment service (story 12.1)", "metadata": ENDPOINT_MARKER}
    endpoint = client.v1.webhook_endpoints.create(params=params)
    log.info("registered webhook endpoint %s for %s", endpoint.id, url)
    return RegisteredEndpoint(endpoint.id, url, str(endpoint.secret))


def delete_webhook_endpoint(config: ServiceConfig, endpoint_id: str) -> None:
    stripe_client(config).v1.webhook_endpoints.delete(endpoint_id)


def stripe_client(config: ServiceConfig) -> stripe.StripeClient:
    base = {"api": config.stripe_api_base} if config.stripe_api_base else {}
    return stripe.StripeClient(config.stripe_secret_key, base_addresses=base,  # type: ignore[arg-type]
                               max_network_retries=2)


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
