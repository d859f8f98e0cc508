"""The sandbox's Flask application: Stripe's /v1 API plus the /_sandbox control plane."""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
from typing import Any

from flask import Flask, Response, g, request
from werkzeug.exceptions import HTTPException

from simulator.sandbox import account, metrics, registrations, webhooks
from simulator.sandbox.api import auth
from simulator.sandbox.api.endpoint import error_response, runtime
from simulator.sandbox.errors import ApiError, InvalidRequestError, NotFoundError, StripeError
from simulator.sandbox.fallback import http as fallback
from simulator.sandbox.faults import ConnectionDrop
from simulator.sandbox.resources.event import EventLog
from simulator.sandbox.runtime import Runtime, SandboxConfig
from simulator.sandbox.versions import validate

log = logging.getLogger("simulator.sandbox")


def create_app(config: SandboxConfig | None = None) -> Flask:
    config = config or SandboxConfig()
    registrations.register_everything()
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = config.max_body_bytes
    rt = Runtime(config, indexer=registrations.INDEXER)
    rt.event_sink = EventLog(listeners=registrations.EVENT_LISTENERS)
    account.configure(rt.store, config.default_api_version)
    app.extensions["sandbox"] = rt
    _register_blueprints(app)
    metrics.install(app, rt)  # GET /metrics and the request counts behind it
    app.before_request(_before_request)
    app.after_request(_after_request)
    app.register_error_handler(StripeError, _stripe_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(ConnectionDrop, _drop_connection)
    app.register_error_handler(Exception, _unexpected_error)
    webhooks.install(rt)
    if config.run_ticker:
        start_ticker(rt, config.tick_seconds)
    return app


def _register_blueprints(app: Flask) -> None:
    for blueprint in registrations.BLUEPRINTS:
        app.register_blueprint(blueprint)


def _before_request() -> None:
    rt = runtime()
    g.request_id = rt.ids.new("req", 14)
    if not request.path.startswith("/v1/"):
        return
    auth.authenticate(request.headers.get("Authorization"))
    version = request.headers.get("Stripe-Version")
    g.api_version = validate(version) if version else account.default_api_version(rt.store)
    # Read once here; the /v1 wrapper asks again only when some fault is waiting.
    g.faults_armed = rt.faults.armed()
    if g.faults_armed:
        rt.faults.before_request(request.method, request.path)


def _after_request(response: Response) -> Response:
    request_id = g.get("request_id")
    if request_id:
        response.headers["Request-Id"] = request_id
    if request.path.startswith("/v1/"):
        response.headers["Stripe-Version"] = (g.get("api_version")
                                              or account.default_api_version(runtime().store))
        key = request.headers.get("Idempotency-Key")
        if key and request.method == "POST" and len(key) <= 255:
            response.headers["Idempotency-Key"] = key
    return response


def _stripe_error(error: StripeError) -> Response:
    if fallback.wanted(error):
        return _fallback_or(error)
    return error_response(error)


def _fallback_or(error: StripeError) -> Response:
    """The stripe-mock-compatible answer where the SDK knows the path, else ``error``."""
    try:
        answered = fallback.fallback_response()
    except StripeError as refused:  # a parameter the SDK's params type does not take
        return error_response(refused)
    return answered if answered is not None else error_response(error)


def _http_error(error: HTTPException) -> Response:
    if (error.code == 404 or error.code == 405) and fallback.enabled():
        return _fallback_or(_unrecognized_url())
    if error.code == 404 or error.code == 405:
        return error_response(_unrecognized_url())
    if error.code == 413:
        return error_response(InvalidRequestError(
            "Request body too large: the sandbox accepts at most"
            f" {runtime().config.max_body_bytes} bytes.",
            status=413,
        ))
    return error_response(InvalidRequestError(error.description or "Bad request.",
                                              status=error.code or 400))


def _unrecognized_url() -> NotFoundError:
    path = request.path
    message = f"Unrecognized request URL ({request.method}: {path})."
    if path.endswith("/") and path != "/":
        message += (
            " If you are trying to list objects, remove the trailing slash. If you are"
            " trying to retrieve an object, make sure you passed a valid (non-empty)"
            " identifier in your code."
        )
    message += " Please see https://stripe.com/docs or we can help at https://support.stripe.com/."
    return NotFoundError(message)


def _drop_connection(error: ConnectionDrop) -> Response:
    """Close the client's socket without an answer (a fault injected on purpose)."""
    sock: Any = request.environ.get("gunicorn.socket") or request.environ.get("werkzeug.socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
    return Response(status=500)


def _unexpected_error(error: Exception) -> Response:
    log.exception("unexpected error on %s %s", request.method, request.path)
    return error_response(ApiError("An unknown error occurred"))


def start_ticker(rt: Runtime, every_seconds: float) -> threading.Thread:
    """Run due jobs in the background, so timed rules happen with nobody asking."""
    stop = threading.Event()

    def tick() -> None:
        while not stop.wait(every_seconds):
            try:
                rt.run_due_jobs()
                rt.store.checkpoint()
            except Exception:  # keep ticking; the failure is logged and retried
                log.exception("ticker failed")

    thread = threading.Thread(target=tick, name="sandbox-ticker", daemon=True)
    thread.start()
    return thread
