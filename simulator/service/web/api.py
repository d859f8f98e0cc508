"""The JSON API under ``/payments`` (documented in ``openapi.yaml``): parse, call one
``PaymentService`` method, serialize. Refusals are ``PaymentRefused`` and reach the one
error handler with their own code and status."""

from __future__ import annotations

from dataclasses import asdict
from importlib import resources
from typing import Any

from flask import Blueprint, Response, jsonify, request

from simulator.service.web.auth import check_api_origin, require_viewer
from simulator.service.web.device import checkout_signals
from simulator.service.web.errors import InvalidRequest
from simulator.service.web.receipt_links import receipt_url
from simulator.service.web.runtime import service_runtime

bp = Blueprint("api", __name__)


def started_body(started: Any) -> dict[str, Any]:
    """A ``CheckoutStarted`` as the API returns it."""
    session = started.payment_session
    return {
        "payment_session_id": session.id,
        "checkout_url": session.checkout_url,
        "expires_at": session.expires_at,
        "window_ends_at": session.window_ends_at,
        "status": session.status,
        "attempt": session.attempt,
        "created": started.created,
    }


def _started_response(started: Any) -> Response:
    response = jsonify(started_body(started))
    response.status_code = 201 if started.created else 200
    return response


def _auction_id() -> str:
    body = request.get_json(silent=True)
    auction_id = body.get("auction_id") if isinstance(body, dict) else None
    if not isinstance(auction_id, str) or not auction_id.strip():
        raise InvalidRequest("auction_id is required (a JSON body: {\"auction_id\": \"...\"}).")
    return auction_id.strip()


@bp.post("/payments/checkout/create")
def create_checkout() -> Response:
    check_api_origin()
    viewer = require_viewer()
    started = service_runtime().service.start_checkout(viewer.id, _auction_id(),
                                                        checkout_signals())
    return _started_response(started)


@bp.get("/payments/checkout/<payment_session_id>/status")
def checkout_status(payment_session_id: str) -> Response:
    viewer = require_viewer()
    view = service_runtime().service.status(viewer.id, payment_session_id)
    body = asdict(view)
    if view.receipt_url and view.order_id:
        body["receipt_url"] = receipt_url(view.order_id, viewer.id)  # signed, 24 hours
    return jsonify(body)


@bp.post("/payments/retry/<payment_session_id>")
def retry_checkout(payment_session_id: str) -> Response:
    check_api_origin()
    viewer = require_viewer()
    started = service_runtime().service.retry(viewer.id, payment_session_id,
                                               checkout_signals())
    return _started_response(started)


@bp.get("/payments/health")
def health() -> Response:
    rt = service_runtime()
    return jsonify({"status": "ok", "time": rt.clock.timestamp(),
                    "stripe": "real" if rt.config.uses_real_stripe else "sandbox"})


@bp.get("/openapi.yaml")
def openapi_document() -> Response:
    text = resources.files("simulator.service.web").joinpath("openapi.yaml").read_text()
    return Response(text, mimetype="application/yaml")
