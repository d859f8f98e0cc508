"""/v1/events and /v1/webhook_endpoints"""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from simulator.sandbox.api.endpoint import ListResult, stripe_endpoint
from simulator.sandbox.api.listing import list_objects
from simulator.sandbox.errors import InvalidRequestError
from simulator.sandbox.params import Params
from simulator.sandbox.resources import webhook_endpoint as endpoints
from simulator.sandbox.resources.base import Ctx, load
from simulator.sandbox.resources.event import Event

bp = Blueprint("events", __name__)


@bp.get("/v1/events/<event_id>")
@stripe_endpoint
def retrieve_event(ctx: Ctx, params: Params, event_id: str) -> Event:
    return load(ctx, Event, event_id)


@bp.get("/v1/events")
@stripe_endpoint
def list_events(ctx: Ctx, params: Params) -> ListResult:
    event_type = params.string("type")
    types = params.strings("types")
    params.boolean("delivery_success")
    if event_type and types:
        raise InvalidRequestError("You may only specify one of these parameters: type, types.",
                                  param="types")
    patterns = types or ([event_type] if event_type else [])
    return list_objects(ctx, params, Event, "/v1/events", globs=("type", patterns))


@bp.post("/v1/webhook_endpoints")
@stripe_endpoint
def create_endpoint(ctx: Ctx, params: Params) -> dict[str, Any]:
    request = endpoints.WebhookEndpointCreate.from_params(params)
    return endpoints.with_secret(ctx, endpoints.create_webhook_endpoint(ctx, request))


@bp.get("/v1/webhook_endpoints/<endpoint_id>")
@stripe_endpoint
def retrieve_endpoint(ctx: Ctx, params: Params, endpoint_id: str) -> endpoints.WebhookEndpoint:
    return load(ctx, endpoints.WebhookEndpoint, endpoint_id)


@bp.post("/v1/webhook_endpoints/<endpoint_id>")
@stripe_endpoint
def update_endpoint(ctx: Ctx, params: Params, endpoint_id: str) -> endpoints.WebhookEndpoint:
    request = endpoints.WebhookEndpointUpdate.from_params(params)
    return endpoints.update_webhook_endpoint(ctx, endpoint_id, request)


@bp.delete("/v1/webhook_endpoints/<endpoint_id>")
@stripe_endpoint
def delete_endpoint(ctx: Ctx, params: Params, endpoint_id: str) -> dict[str, Any]:
    return endpoints.delete_webhook_endpoint(ctx, endpoint_id)


@bp.get("/v1/webhook_endpoints")
@stripe_endpoint
def list_endpoints(ctx: Ctx, params: Params) -> ListResult:
    return list_objects(ctx, params, endpoints.WebhookEndpoint, "/v1/webhook_endpoints")
