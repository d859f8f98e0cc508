"""/_sandbox/webhooks routes: inspect deliveries and their attempts, resend, drain the
outbox, and set the retry profile, timeouts, chaos and secret rolls. Not Stripe's API:
its Dashboard shows the same things under Developers → Webhooks."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, request

from simulator.sandbox.api.endpoint import json_response, runtime
from simulator.sandbox.errors import InvalidRequestError, NotFoundError
from simulator.sandbox.resources.base import Ctx, load
from simulator.sandbox.resources.webhook_endpoint import WebhookEndpoint
from simulator.sandbox.runtime import Runtime
from simulator.sandbox.webhooks import dispatcher_for, outbox
from simulator.sandbox.webhooks import settings as config

bp = Blueprint("control_webhooks", __name__, url_prefix="/_sandbox/webhooks")
DEFAULT_ROLL_EXPIRY_SECONDS = 24 * 3600
_TRUE = ("true", "1", "yes", "on")
_FALSE = ("false", "0", "no", "off", "")


def _param(name: str) -> str | None:
    body = request.get_json(silent=True) if request.is_json else None
    if isinstance(body, dict) and name in body:
        return _as_text(body[name])
    return request.values.get(name)


def _as_text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _number(name: str) -> float | None:
    raw = _param(name)
    if raw is None:
        return None
    try:
        return float(raw)
    except ValueError:
        raise InvalidRequestError(f"Invalid number: {raw}", param=name) from None


def _flag(name: str) -> bool | None:
    raw = _param(name)
    if raw is None:
        return None
    if raw.lower() not in _TRUE + _FALSE:
        raise InvalidRequestError(f"Invalid boolean: {raw}", param=name)
    return raw.lower() in _TRUE


def _ctx(rt: Runtime) -> Ctx:
    return Ctx(store=rt.store, now=rt.clock.timestamp(), ids=rt.ids,
               base_url=rt.public_url(request.host_url), sink=rt.event_sink)


@bp.get("/deliveries")
def list_deliveries() -> Any:
    status = _param("status")
    if status is not None and status not in ("pending", "delivered", "failed"):
        raise InvalidRequestError(
            "Invalid status: must be one of pending, delivered, failed", param="status"
        )
    deliveries = outbox.list_deliveries(
        runtime().store,
        event_id=_param("event"),
        endpoint_id=_param("endpoint"),
        status=status,
        limit=int(_number("limit") or 100),
    )
    return json_response({"object": "list", "data": deliveries, "url": request.path})


@bp.get("/deliveries/<delivery_id>")
def retrieve_delivery(delivery_id: str) -> Any:
    delivery = outbox.get_delivery(runtime().store, delivery_id)
    if delivery is None:
        raise NotFoundError(f"No such webhook delivery: '{delivery_id}'", param="id",
                            code="resource_missing")
    return json_response(delivery)


@bp.post("/events/<event_id>/resend")
def resend_event(event_id: str) -> Any:
    rt = runtime()
    with rt.store.transaction():
        queued = outbox.resend_event(_ctx(rt), event_id, _param("endpoint"))
    dispatcher_for(rt).wake()
    return json_response({"event": event_id, "deliveries": queued})


@bp.post("/drain")
def drain() -> Any:
    """Deliver everything due now and answer once done (tests never sleep)."""
    rt = runtime()
    tally = dispatcher_for(rt).drain()
    return json_response({**tally.to_dict(), "deliveries": outbox.counts(rt.store)})


@bp.get("/config")
def show_config() -> Any:
    return json_response(config.sandbox_settings(runtime().store).to_dict())


@bp.post("/config")
def configure() -> Any:
    updated = config.configure_sandbox(runtime().store, _param("profile"),
                                       _number("timeout_seconds"))
    return json_response(updated.to_dict())


@bp.get("/endpoints/<endpoint_id>")
def show_endpoint_settings(endpoint_id: str) -> Any:
    return json_response(config.endpoint_settings(runtime().store, endpoint_id).to_dict())


@bp.post("/endpoints/<endpoint_id>/config")
def configure_endpoint(endpoint_id: str) -> Any:
    rt = runtime()
    profile = _param("profile") or None
    with rt.store.transaction():
        updated = config.set_endpoint_profile(_ctx(rt), endpoint_id, profile)
    return json_response(updated.to_dict())


@bp.post("/endpoints/<endpoint_id>/chaos")
def set_chaos(endpoint_id: str) -> Any:
    chaos = config.Chaos() if _flag("clear") else _chaos_from_request(endpoint_id)
    return _save_chaos(endpoint_id, chaos)


@bp.delete("/endpoints/<endpoint_id>/chaos")
def clear_chaos(endpoint_id: str) -> Any:
    return _save_chaos(endpoint_id, config.Chaos())


def _chaos_from_request(endpoint_id: str) -> config.Chaos:
    """Options not given keep their current value."""
    chaos = config.endpoint_settings(runtime().store, endpoint_id).chaos
    if (duplicate := _number("duplicate")) is not None:
        chaos.duplicate = int(duplicate)
    if (delay_ms := _number("delay_ms")) is not None:
        chaos.delay_ms = int(delay_ms)
    if (reorder := _flag("reorder")) is not None:
        chaos.reorder = reorder
    if (stale := _flag("stale_timestamp")) is not None:
        chaos.stale_timestamp = stale
    return chaos


def _save_chaos(endpoint_id: str, chaos: config.Chaos) -> Any:
    rt = runtime()
    with rt.store.transaction():
        updated = config.set_chaos(_ctx(rt), endpoint_id, chaos)
    return json_response(updated.to_dict())


@bp.get("/endpoints/<endpoint_id>/secrets")
def endpoint_secrets(endpoint_id: str) -> Any:
    """The signing secrets deliveries carry now: the current one, then rolled ones still
    live. Real Stripe shows these in its Dashboard only; here a receiver the sandbox
    serves (the payment service) reads them to follow a roll, or to adopt its endpoint."""
    rt = runtime()
    ctx = _ctx(rt)
    endpoint = load(ctx, WebhookEndpoint, endpoint_id)
    previous = config.endpoint_settings(rt.store, endpoint_id).live_secrets(ctx.now)
    return json_response({"id": endpoint.id, "object": "webhook_endpoint_secrets",
                          "secret": endpoint.secret, "previous": previous})


@bp.post("/endpoints/<endpoint_id>/secret")
def set_secret(endpoint_id: str) -> Any:
    """Sign with a secret the receiver already has (``stripe-sim listen`` keeps one)."""
    rt = runtime()
    with rt.store.transaction():
        endpoint = config.set_secret(_ctx(rt), endpoint_id, _param("secret") or "")
    return json_response({"id": endpoint.id, "object": "webhook_endpoint",
                          "secret": endpoint.secret})


@bp.post("/endpoints/<endpoint_id>/roll_secret")
def roll_secret(endpoint_id: str) -> Any:
    rt = runtime()
    expires_in = _number("expires_in")
    with rt.store.transaction():
        endpoint, expires_at = config.roll_secret(
            _ctx(rt), endpoint_id,
            DEFAULT_ROLL_EXPIRY_SECONDS if expires_in is None else expires_in,
        )
    return json_response({"id": endpoint.id, "object": "webhook_endpoint",
                          "secret": endpoint.secret, "previous_secret_expires_at": int(expires_at)})
