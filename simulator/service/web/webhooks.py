"""Stripe's webhook deliveries: ``POST /payments/webhooks/stripe``.

The pipeline dj-stripe and Saleor use (https://docs.stripe.com/webhooks#verify-events,
https://docs.stripe.com/webhooks#handle-duplicate-events):

1. A body over ``MAX_BODY_BYTES`` is refused with 413 before it is read.
2. The ``Stripe-Signature`` header is verified before anything is stored: missing,
   malformed, not matching the endpoint's secret, or timestamped more than 300 s away
   from the service's clock (a replay) → 400. The only writes are a ``security_events``
   row and a log line.
3. The delivery is stored in the inbox keyed by event id. An event already processed,
   or being processed right now, is answered 200 ``duplicate`` with no further work.
4. ``PaymentService.handle_event`` does the work. If it raises, the inbox row is marked
   ``failed`` with the error and the answer is 500, so Stripe delivers again later
   (https://docs.stripe.com/webhooks#retries); a failed event is processed again then.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, Response, jsonify, request
from werkzeug.exceptions import RequestEntityTooLarge

from simulator.service.adapters.errors import InvalidSignature
from simulator.service.adapters.stripe_gateway import StripeGateway
from simulator.service.web.errors import error_body
from simulator.service.web.inbox import Inbox
from simulator.service.web.runtime import ServiceRuntime, service_runtime

log = logging.getLogger("simulator.service.webhooks")
bp = Blueprint("webhooks", __name__)

WEBHOOK_PATH = "/payments/webhooks/stripe"
MAX_BODY_BYTES = 256 * 1024
TOLERANCE_SECONDS = 300  # the official SDKs' default tolerance
# The events PaymentService.handle_event acts on; the endpoint subscribes to these only.
HANDLED_EVENTS = (
    "checkout.session.completed",
    "checkout.session.async_payment_succeeded",
    "checkout.session.async_payment_failed",
    "checkout.session.expired",
    "payment_intent.succeeded",
    "payment_intent.payment_failed",
    "charge.refunded",
)


@dataclass
class WebhookRejected(Exception):
    """A delivery refused before it is stored; ``kind`` names the security event."""

    kind: str
    message: str
    http_status: int = 400


def verify_event(gateway: StripeGateway, payload: bytes, header: str | None,
                 secret: str | None) -> dict[str, Any]:
    """The event in ``payload`` once its signature and timestamp check out. The gateway
    checks the HMAC with the SDK and the timestamp against the service's clock, so a
    sandbox and a service whose clocks were moved together in a test still agree."""
    if not header:
        raise WebhookRejected("webhook_signature_missing", "Missing Stripe-Signature header.")
    if not secret:
        raise WebhookRejected("webhook_secret_unset", "No webhook signing secret is set.", 500)
    try:
        event = gateway.construct_event(payload, header, secret, tolerance=TOLERANCE_SECONDS)
    except InvalidSignature as error:
        raise WebhookRejected(_rejection_kind(error.reason), error.reason) from None
    if not isinstance(event.get("id"), str):
        raise WebhookRejected("webhook_payload_invalid", "The payload is not a Stripe event")
    return event


def _rejection_kind(reason: str) -> str:
    if reason.startswith("Timestamp outside"):
        return "webhook_signature_timestamp"
    if reason.startswith("The payload"):
        return "webhook_payload_invalid"
    return "webhook_signature_invalid"


@bp.post(WEBHOOK_PATH)
def receive_stripe_event() -> Response:
    rt = service_runtime()
    try:
        payload = _read_payload()
        event = verify_event(rt.gateway, payload, request.headers.get("Stripe-Signature"),
                             rt.webhook_secret)
    except WebhookRejected as rejected:
        return _reject(rt, rejected)
    inbox = Inbox(rt.repo, rt.clock)
    if not inbox.accept(event, payload.decode("utf-8")):
        return _answer(event, "duplicate")
    return _dispatch(rt, inbox, event)


def _read_payload() -> bytes:
    request.max_content_length = MAX_BODY_BYTES
    try:
        return request.get_data(cache=False)
    except RequestEntityTooLarge:
        raise WebhookRejected(
            "webhook_payload_too_large",
            f"The payload is larger than {MAX_BODY_BYTES} bytes.",
            413,
        ) from None


def _dispatch(rt: ServiceRuntime, inbox: Inbox, event: dict[str, Any]) -> Response:
    try:
        rt.service.handle_event(event)
    except Exception as error:
        log.exception("webhook %s (%s) failed", event["id"], event["type"])
        inbox.failed(event["id"], f"{type(error).__name__}: {error}")
        response = jsonify(error_body(
            "handler_failed", "The event could not be processed; it will be retried."))
        response.status_code = 500
        return response
    inbox.processed(event["id"])
    return _answer(event, "processed")


def _answer(event: dict[str, Any], status: str) -> Response:
    return jsonify({"received": True, "event_id": event["id"], "status": status})


def _reject(rt: ServiceRuntime, rejected: WebhookRejected) -> Response:
    """Log and record the refusal: the only writes allowed before verification."""
    remote = request.remote_addr or ""
    log.warning("webhook refused (%s) from %s: %s", rejected.kind, remote, rejected.message)
    Inbox(rt.repo, rt.clock).security_event(rejected.kind, rejected.message, remote)
    code = "payload_too_large" if rejected.http_status == 413 else "invalid_signature"
    if rejected.kind == "webhook_payload_invalid":
        code = "invalid_payload"
    response = jsonify(error_body(code, rejected.message))
    response.status_code = rejected.http_status
    return response
