"""Webhook endpoints (https://docs.stripe.com/api/webhook_endpoints). Delivery itself is
the webhook dispatcher's job; this module keeps the endpoints and their secrets."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from simulator.sandbox import codec
from simulator.sandbox.errors import InvalidRequestError
from simulator.sandbox.params import Params, apply_metadata
from simulator.sandbox.resources.base import Ctx, StripeObject, load, save
from simulator.sandbox.resources.common import UNSET, Maybe
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


# -- requests ---------------------------------------------------------------------------
@dataclass(frozen=True)
class WebhookEndpointCreate:
    """``POST /v1/webhook_endpoints``; ``api_version`` is a valid Stripe version."""

    url: str
    enabled_events: list[str]
    description: str | None = None
    api_version: str | None = None
    metadata: dict[str, str] | None = None

    @classmethod
    def from_params(cls, params: Params) -> WebhookEndpointCreate:
        url, events = _read_target(params, required=True)
        api_version = params.string("api_version")
        description = params.string("description")
        request = cls(url=url or "", enabled_events=events or [], description=description,
                      api_version=validate_version(api_version) if api_version else None,
                      metadata=params.metadata())
        params.raw("connect")  # Connect only; accepted and ignored
        return request


@dataclass(frozen=True)
class WebhookEndpointUpdate:
    """``POST /v1/webhook_endpoints/{id}``; ``disabled`` turns deliveries off or on."""

    url: str | None = None
    enabled_events: list[str] | None = None
    description: Maybe[str | None] = UNSET
    disabled: bool | None = None
    metadata: dict[str, str] | None = None

    @classmethod
    def from_params(cls, params: Params) -> WebhookEndpointUpdate:
        url, events = _read_target(params, required=False)
        description: Maybe[str | None] = UNSET
        if "description" in params:
            description = params.string("description")
        return cls(url, events, description, params.boolean("disabled"), params.metadata())


def _read_target(params: Params, required: bool) -> tuple[str | None, list[str] | None]:
    """``url`` and ``enabled_events``: where to send which events."""
    url = params.string("url", required=required)
    if url is not None and not url.startswith(("http://", "https://")):
        raise InvalidRequestError(f"Invalid URL: {url}", param="url", code="url_invalid")
    events = params.strings("enabled_events", required=required)
    if events is not None and not events:
        raise InvalidRequestError(
            "Invalid array: enabled_events must contain at least one event", param="enabled_events"
        )
    return url, events


# -- operations -------------------------------------------------------------------------
def create_webhook_endpoint(ctx: Ctx, request: WebhookEndpointCreate) -> WebhookEndpoint:
    endpoint = WebhookEndpoint(
        id=ctx.ids.new("we"),
        created=ctx.now,
        url=request.url,
        enabled_events=list(request.enabled_events),
        secret=ctx.ids.secret("whsec"),
        description=request.description,
        api_version=request.api_version,
        metadata=apply_metadata({}, request.metadata),
    )
    save(ctx, endpoint)
    return endpoint


def update_webhook_endpoint(ctx: Ctx, endpoint_id: str, request: WebhookEndpointUpdate
                            ) -> WebhookEndpoint:
    endpoint = load(ctx, WebhookEndpoint, endpoint_id)
    if request.url is not None:
        endpoint.url = request.url
    if request.enabled_events is not None:
        endpoint.enabled_events = list(request.enabled_events)
    if request.description is not UNSET:
        endpoint.description = request.description
    if request.disabled is not None:
        endpoint.status = "disabled" if request.disabled else "enabled"
    endpoint.metadata = apply_metadata(endpoint.metadata, request.metadata)
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
