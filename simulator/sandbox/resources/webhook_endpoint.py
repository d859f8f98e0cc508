"""Webhook endpoints (https://docs.stripe.com/api/webhook_endpoints). Delivery itself is
the webhook dispatcher's job; this module keeps the endpoints and their secrets."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from simulator.sandbox import codec
from simulator.sandbox.errors import InvalidRequestError
from simulator.sandbox.params import Params, apply_metadata
from simulator.sandbox.resources.base import Ctx, StripeObject, load, save
from simulator.sandbox.versions import validate as validate_version

Status = Literal["enabled", "disabled"]
_CACHE_KEY = "subscribed_endpoints"


@dataclass(kw_only=True)
class WebhookEndpoint(StripeObject):
    OBJECT = "webhook_endpoint"
    PREFIX = "we"
    NOUN = "webhook endpoint"

    url: str
    enabled_events: list[str]
    secret: str
    description: str | None = None
    api_version: str | None = None
    status: Status = "enabled"
    metadata: dict[str, str] = field(default_factory=dict)
    deleted: bool = False

    def is_deleted(self) -> bool:
        return self.deleted

    def subscribes_to(self, event_type: str) -> bool:
        return self.status == "enabled" and (
            "*" in self.enabled_events or event_type in self.enabled_events
        )

    def serialize(self, ctx: Ctx) -> dict[str, Any]:
        return {
            "id": self.id,
            "object": "webhook_endpoint",
            "api_version": self.api_version,
            "application": None,
            "created": self.created,
            "description": self.description,
            "enabled_events": list(self.enabled_events),
            "livemode": False,
            "metadata": dict(self.metadata),
            "status": self.status,
            "url": self.url,
        }


def _read_url(params: Params, required: bool) -> str | None:
    url = params.string("url", required=required)
    if url is not None and not url.startswith(("http://", "https://")):
        raise InvalidRequestError(f"Invalid URL: {url}", param="url", code="url_invalid")
    return url


def _read_events(params: Params, required: bool) -> list[str] | None:
    events = params.strings("enabled_events", required=required)
    if events is not None and not events:
        raise InvalidRequestError(
            "Invalid array: enabled_events must contain at least one event", param="enabled_events"
        )
    return events


def create_webhook_endpoint(ctx: Ctx, params: Params) -> WebhookEndpoint:
    url = _read_url(params, required=True)
    events = _read_events(params, required=True)
    api_version = params.string("api_version")
    endpoint = WebhookEndpoint(
        id=ctx.ids.new("we"),
        created=ctx.now,
        url=url or "",
        enabled_events=events or [],
        secret=ctx.ids.secret("whsec"),
        description=params.string("description"),
        api_version=validate_version(api_version) if api_version else None,
        metadata=apply_metadata({}, params.metadata()),
    )
    params.raw("connect")
    save(ctx, endpoint)
    return endpoint


def update_webhook_endpoint(ctx: Ctx, endpoint_id: str, params: Params) -> WebhookEndpoint:
    endpoint = load(ctx, WebhookEndpoint, endpoint_id)
    if (url := _read_url(params, required=False)) is not None:
        endpoint.url = url
    if (events := _read_events(params, required=False)) is not None:
        endpoint.enabled_events = events
    if "description" in params:
        endpoint.description = params.string("description")
    disabled = params.boolean("disabled")
    if disabled is not None:
        endpoint.status = "disabled" if disabled else "enabled"
    endpoint.metadata = apply_metadata(endpoint.metadata, params.metadata())
    save(ctx, endpoint)
    return endpoint


def delete_webhook_endpoint(ctx: Ctx, endpoint_id: str) -> dict[str, Any]:
    endpoint = load(ctx, WebhookEndpoint, endpoint_id)
    endpoint.deleted = True
    save(ctx, endpoint)
    return {"id": endpoint.id, "object": "webhook_endpoint", "deleted": True}


def with_secret(ctx: Ctx, endpoint: WebhookEndpoint) -> dict[str, Any]:
    """Stripe returns the signing secret only in the response that creates the endpoint."""
    data = endpoint.serialize(ctx)
    data["secret"] = endpoint.secret
    return data


def subscribed_endpoints(ctx: Ctx, event_type: str) -> list[WebhookEndpoint]:
    cached: list[WebhookEndpoint] | None = ctx.cache.get(_CACHE_KEY)
    if cached is None:
        rows = ctx.store.conn.execute(
            "SELECT data FROM objects WHERE type = 'webhook_endpoint' AND deleted = 0"
        ).fetchall()
        cached = [WebhookEndpoint.from_state(codec.loads(row[0])) for row in rows]
        ctx.cache[_CACHE_KEY] = cached
    return [endpoint for endpoint in cached if endpoint.subscribes_to(event_type)]
