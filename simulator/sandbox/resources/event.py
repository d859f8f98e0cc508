"""Events (https://docs.stripe.com/api/events): one per state change, stored immutably
with the object as it was at that moment."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from simulator.sandbox.account import default_api_version
from simulator.sandbox.context import Renderable
from simulator.sandbox.resources.base import Ctx, StripeObject, save
from simulator.sandbox.resources.webhook_endpoint import WebhookEndpoint, subscribed_endpoints
from simulator.sandbox.versions import ACCOUNT_DEFAULT_VERSION


@dataclass(kw_only=True)
class Event(StripeObject):
    OBJECT = "event"
    PREFIX = "evt"
    NOUN = "event"
    FILTERS = ("type",)

    type: str
    data: dict[str, Any]
    api_version: str = ACCOUNT_DEFAULT_VERSION
    request: dict[str, Any] = field(default_factory=lambda: {"id": None, "idempotency_key": None})
    pending_webhooks: int = 0

    def serialize(self, ctx: Ctx) -> dict[str, Any]:
        return {
            "id": self.id,
            "object": "event",
            "api_version": self.api_version,
            "created": self.created,
            "data": self.data,
            "livemode": False,
            "pending_webhooks": self.pending_webhooks,
            "request": self.request,
            "type": self.type,
        }


# Called with (ctx, event, endpoints) inside the emitting transaction; the webhook outbox
# is one, so that queuing a delivery is atomic with the state change.
EventListener = Callable[[Ctx, Event, Sequence[WebhookEndpoint]], None]


class EventLog:
    """The ``EventSink`` a sandbox runtime injects into every context: stores the event
    and tells its listeners (given at start-up, never added by an import)."""

    def __init__(self, listeners: Sequence[EventListener] = ()) -> None:
        self.listeners = tuple(listeners)

    def emit(self, ctx: Ctx, event_type: str, obj: Renderable,
             previous_attributes: dict[str, Any] | None = None) -> dict[str, Any]:
        return emit_event(ctx, event_type, obj, previous_attributes, self.listeners)


def emit_event(
    ctx: Ctx,
    event_type: str,
    obj: Renderable,
    previous_attributes: dict[str, Any] | None = None,
    listeners: Sequence[EventListener] = (),
) -> dict[str, Any]:
    """Record the event Stripe would emit, rendered in the account's default API version.

    ``pending_webhooks`` counts the enabled endpoints that subscribe to this type; the
    webhook dispatcher queues one delivery for each of them in the same transaction.
    """
    version = _account_version(ctx)
    data: dict[str, Any] = {"object": obj.serialize(ctx.with_version(version))}
    if previous_attributes:
        data["previous_attributes"] = previous_attributes
    endpoints = subscribed_endpoints(ctx, event_type)
    event = Event(
        id=ctx.ids.new("evt"),
        created=ctx.now,
        type=event_type,
        data=data,
        api_version=version,
        request={"id": ctx.request_id, "idempotency_key": ctx.idempotency_key},
        pending_webhooks=len(endpoints),
    )
    save(ctx, event)
    for listener in listeners:
        listener(ctx, event, endpoints)
    return event.serialize(ctx)


def _account_version(ctx: Ctx) -> str:
    """The account's default version, read once per request."""
    if "account_api_version" not in ctx.cache:
        ctx.cache["account_api_version"] = default_api_version(ctx.store)
    version: str = ctx.cache["account_api_version"]
    return version

