"""One error handler for the whole service.

Every refusal, whether raised by ``PaymentService`` (``PaymentRefused``) or by the web
layer itself (``WebError``, ``errors.py``), is answered with the same body,
``{"error": {"code": ..., "message": ...}}``, and its own HTTP status. Browser pages get
the same code and message rendered as HTML; an anonymous browser is sent to the login
page instead of seeing a 401.
"""

from __future__ import annotations

import logging
import sqlite3
from typing import Any

from flask import Flask, jsonify, redirect, render_template, request, url_for
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from simulator.service.adapters.errors import PaymentsUnavailable, StripeRejected
from simulator.service.payments import PaymentRefused
from simulator.service.web import security_log
from simulator.service.web.errors import WebError, error_body
from simulator.service.web.templating import safe_viewer

log = logging.getLogger("simulator.service.web")

PAGE_BLUEPRINTS = ("pages", "admin")
_HTTP_CODES = {
    400: "invalid_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
}


def error_response(code: str, http_status: int, message: str) -> Response:
    """The JSON answer, or the HTML page when a browser page asked."""
    if request.blueprint in PAGE_BLUEPRINTS:
        if http_status == 401:
            return redirect(url_for("pages.login", next=request.full_path.rstrip("?")))
        html = render_template("error.html", code=code, message=message, status=http_status)
        return Response(html, status=http_status, mimetype="text/html")
    response = jsonify(error_body(code, message))
    response.status_code = http_status
    return response


def install(app: Flask) -> None:
    """Register the handlers; ``PaymentRefused`` comes from the payment core."""
    app.register_error_handler(WebError, _web_error)
    app.register_error_handler(PaymentRefused, _payment_refused)
    app.register_error_handler(PaymentsUnavailable, _payment_refused)
    app.register_error_handler(StripeRejected, _stripe_rejected)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(sqlite3.OperationalError, _storage_error)
    app.register_error_handler(Exception, _unexpected_error)


def _web_error(error: WebError) -> Response:
    _record_forbidden(error.http_status, error.message)
    return error_response(error.code, error.http_status, error.message)


def _record_forbidden(http_status: int, message: str) -> None:
    """A 403 is a security event: who was refused what (refusals of the test routes and of
    the auction API are counted where they are made)."""
    if http_status != 403 or request.blueprint in ("testing", "clock_follower", "wins"):
        return
    viewer = safe_viewer()
    who = viewer.id if viewer is not None else "anonymous"
    security_log.record("forbidden", f"{who}: {request.method} {request.path}: {message}")


def _payment_refused(error: Any) -> Response:
    _record_forbidden(error.http_status, error.message)
    response = error_response(error.code, error.http_status, error.message)
    if error.http_status == 503:
        response.headers["Retry-After"] = "60"
    return response


def _stripe_rejected(error: Any) -> Response:
    """Stripe refused a request we built: our bug, not the buyer's; details go to the log."""
    log.error("Stripe rejected a request: %s (request %s)", error, error.request_id)
    return error_response("payment_provider_error", 502,
                          "The payment provider refused the request. Please try again later.")


def _http_error(error: HTTPException) -> Response:
    """Werkzeug's refusals (404, 405, 413, a 429 from the rate limits, whose
    ``Retry-After`` Flask-Limiter adds) in the one shape."""
    status = error.code or 500
    if status == 413:
        log.warning("request body too large: %s %s from %s (Content-Length %s)",
                    request.method, request.path, request.remote_addr, request.content_length)
    code = _HTTP_CODES.get(status, "http_error")
    if status == 429:
        return error_response(code, status, f"Too many requests ({error.description})."
                              " Wait a moment and try again.")
    return error_response(code, status, error.description or error.name)


STORAGE_BUSY = "We are very busy right now. Nothing was charged; please try again in a minute."


def _storage_error(error: sqlite3.OperationalError) -> Response:
    """The database is locked past its timeout, or the disk is full: every write of the
    request was rolled back, so the buyer (or Stripe, for a webhook) can simply try again."""
    full = "full" in str(error)
    (log.critical if full else log.error)(
        "storage unavailable on %s %s: %s", request.method, request.path, error)
    response = error_response("storage_full" if full else "service_busy", 503, STORAGE_BUSY)
    response.headers["Retry-After"] = "60" if full else "5"
    return response


def _unexpected_error(error: Exception) -> Response:
    log.exception("unexpected error on %s %s", request.method, request.path)
    return error_response("internal_error", 500, "Something went wrong on our side.")
