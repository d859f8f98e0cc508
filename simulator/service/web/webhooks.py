"""Stripe's webhook deliveries: ``POST /payments/webhooks/stripe``.

The pipeline dj-stripe and Saleor use (https://docs.stripe.com/webhooks#verify-events,
https://docs.stripe.com/webhooks#handle-duplicate-events):

1. A body over ``MAX_BODY_BYTES`` is refused with 413 before it is read.
2. The ``Stripe-Signature`` header is verified before anything is stored: missing,
   malformed, not matching the endpoint's secret, or timestamped more than 300 s away
   from the service's clock (a replay) → 400; so is a body that is not UTF-8 text. The
   only writes are a counted ``security_events`` row (one per reason and five minutes,
   however many are refused) and a log line.
3. The delivery is stored in the inbox keyed by event id and claimed for processing
   (``payments/inbox.py``). Dedupe is on *processed*: an event whose earlier processing
   committed is answered 200 ``duplicate`` with no further work; one a live worker is
   processing right now, 200 ``in_progress``; one whose worker died, or that failed, is
   processed again.
4. ``PaymentService`` does the work. If it raises, the inbox row is marked ``failed``
   with the error and the answer is 500, so Stripe delivers again later
   (https://docs.stripe.com/webhooks#retries). If the database cannot be written (locked,
   disk full) the answer is 503 and nothing was stored.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, Response, jsonify, request
from werkzeug.exceptions import RequestEntityTooLarge

from simulator.service.adapters.errors import InvalidSignature
from simulator.service.adapters.stripe_gateway import StripeGateway
from simulator.service.adapters.webhook_endpoint import WEBHOOK_PATH, EndpointSecrets
from simulator.service.payments.inbox import EventFailed
from simulator.service.web.errors import error_body
from simulator.service.web.runtime import ServiceRuntime, service_runtime

log = logging.getLogger("simulator.service.webhooks")
bp = Blueprint("webhooks", __name__)

MAX_BODY_BYTES = 256 * 1024
TOLERANCE_SECONDS = 300  # the official SDKs' default tolerance


@dataclass
class WebhookRejected(Exception):
    """A delivery refused before it is stored; ``kind`` names the security event."""

    kind: str
    message: str
    http_status: int = 400


def verify_event(gateway: StripeGateway, payload: bytes, header: str | None,
                 secrets: EndpointSecrets) -> dict[str, Any]:
    """The event in ``payload`` once its signature and timestamp check out. The gateway
    checks the HMAC with the SDK and the timestamp against the service's clock, so a
    sandbox and a service whose clocks were moved together in a test still agree. A
    signature no known secret matches makes the secrets be re-read once (a roll)."""
    if not header:
        raise WebhookRejected("webhook_signature_missing", "Missing Stripe-Signature header.")
    if not secrets.current():
        raise WebhookRejected("webhook_secret_unset", "No webhook signing secret is set.", 500)
    known = secrets.current()
    try:
        event = _verified(gateway, payload, header, known)
    except WebhookRejected as rejected:
        if rejected.kind != "webhook_signature_invalid":
            raise
        secrets.refresh()  # this thread's, or one another thread just made
        if secrets.current() == known:
            raise
        event = _verified(gateway, payload, header, secrets.current())
    if not isinstance(event.get("id"), str):
        raise WebhookRejected("webhook_payload_invalid", "The payload is not a Stripe event")
    return event


def _verified(gateway: StripeGateway, payload: bytes, header: str,
              secrets: tuple[str, ...]) -> dict[str, Any]:
    """Verified with the first secret that matches; the last refusal otherwise."""
    refusal = InvalidSignature("No signatures found matching the expected signature")
    for secret in secrets:
        try:
            return gateway.construct_event(payload, header, secret, tolerance=TOLERANCE_SECONDS)
        except InvalidSignature as error:
            refusal = error
    raise WebhookRejected(_rejection_kind(refusal.reason), refusal.reason)


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
        text = _utf8(payload)
        event = verify_event(rt.gateway, payload, request.headers.get("Stripe-Signature"),
                             rt.webhook_secrets)
    except WebhookRejected as rejected:
        return _reject(rt, rejected)
    try:
        outcome = rt.service.receive_event(event, text)
    except EventFailed:
        response = jsonify(error_body(
            "handler_failed", "The event could not be processed; it will be retried."))
        response.status_code = 500
        return response
    return _answer(event, outcome)


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


def _utf8(payload: bytes) -> str:
    """Stripe sends JSON in UTF-8; anything else is refused before it is verified."""
    try:
        return payload.decode("utf-8")
    except UnicodeDecodeError:
        raise WebhookRejected("webhook_payload_invalid",
                              "The payload is not UTF-8 encoded JSON.") from None


def _answer(event: dict[str, Any], status: str) -> Response:
    return jsonify({"received": True, "event_id": event["id"], "status": status})


def _reject(rt: ServiceRuntime, rejected: WebhookRejected) -> Response:
    """Log and record the refusal: the only writes allowed before verification."""
    remote = request.remote_addr or ""
    log.warning("webhook refused (%s) from %s: %s", rejected.kind, remote, rejected.message)
    rt.security.refused_delivery(rejected.kind, rejected.message, remote)
    code = "payload_too_large" if rejected.http_status == 413 else "invalid_signature"
    if rejected.kind == "webhook_payload_invalid":
        code = "invalid_payload"
    response = jsonify(error_body(code, rejected.message))
    response.status_code = rejected.http_status
    return response
