"""The request context every operation receives, and the event sink it emits through.

``Ctx`` sits below the Stripe objects so that the job runner and the objects share it
without importing each other. Events are recorded by whatever ``EventSink`` the runtime
injects (``resources/event.py``'s ``EventLog`` in a running sandbox): an object says
*what happened*, it never imports the event module that records it.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Protocol

from simulator.common.ids import IdGenerator
from simulator.sandbox.store import Store
from simulator.sandbox.versions import LATEST_VERSION


class Renderable(Protocol):
    """What an event carries: an object that renders itself for one API version."""

    @property
    def id(self) -> str: ...

    def serialize(self, ctx: Ctx) -> dict[str, Any]: ...


class EventSink(Protocol):
    """Records one event in the caller's transaction and returns it as rendered."""

    def emit(self, ctx: Ctx, event_type: str, obj: Renderable,
             previous_attributes: dict[str, Any] | None) -> dict[str, Any]: ...


@dataclass
class Ctx:
    """Everything an operation needs besides its parameters: the store (inside the
    request's transaction), the sandbox time, id generation, who is asking and where
    its events go."""

    store: Store
    now: int
    ids: IdGenerator
    api_version: str = LATEST_VERSION
    base_url: str = "http://127.0.0.1:12111"
    request_id: str | None = None
    idempotency_key: str | None = None
    events: list[dict[str, Any]] = field(default_factory=list)
    # Per-request memo of values several operations read (e.g. the webhook endpoints).
    cache: dict[str, Any] = field(default_factory=dict)
    sink: EventSink | None = None

    def emit(
        self,
        event_type: str,
        obj: Renderable,
        previous_attributes: dict[str, Any] | None = None,
    ) -> None:
        if self.sink is None:
            raise LookupError(f"no event sink in this context to record {event_type!r}")
        self.events.append(self.sink.emit(self, event_type, obj, previous_attributes))

    def with_version(self, api_version: str) -> Ctx:
        return dataclasses.replace(self, api_version=api_version)
