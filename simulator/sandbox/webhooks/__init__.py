"""Signed webhook delivery with retries, as Stripe does it (https://docs.stripe.com/webhooks).

``install(runtime)`` is called once per app: it creates the outbox tables and, in a
server process, starts the dispatcher thread; ``queue_deliveries`` is the event listener
the app's wiring gives the runtime's event log, so a delivery is queued in the event's
transaction. Layout:

- ``outbox``: delivery rows queued in the event's transaction, leases, the attempt log;
- ``dispatcher``: signing, POSTing and recording attempts; the background thread; drain;
- ``schedule``: retry profiles (``test``, ``live``, ``fast``) on the sandbox clock;
- ``signing``: the ``Stripe-Signature`` header;
- ``settings``: the sandbox's and each endpoint's delivery settings (chaos, secret roll);
- ``receiver``: a verifying local receiver, for tests, benchmarks and demos.
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence

from simulator.sandbox.resources.base import Ctx
from simulator.sandbox.resources.event import Event
from simulator.sandbox.resources.webhook_endpoint import WebhookEndpoint
from simulator.sandbox.runtime import Runtime
from simulator.sandbox.store import Store
from simulator.sandbox.webhooks import outbox
from simulator.sandbox.webhooks.dispatcher import Dispatcher

_DISPATCHERS: weakref.WeakKeyDictionary[Store, Dispatcher] = weakref.WeakKeyDictionary()


def install(rt: Runtime) -> Dispatcher:
    """Make ``rt``'s sandbox deliver webhooks; idempotent per runtime."""
    existing = _DISPATCHERS.get(rt.store)
    if existing is not None:
        return existing
    dispatcher = Dispatcher(rt)
    _DISPATCHERS[rt.store] = dispatcher
    if rt.config.run_ticker:
        dispatcher.start()
    return dispatcher


def dispatcher_for(rt: Runtime) -> Dispatcher:
    return _DISPATCHERS.get(rt.store) or install(rt)


def queue_deliveries(ctx: Ctx, event: Event, endpoints: Sequence[WebhookEndpoint]) -> None:
    """The event listener: queue in the event's transaction, then wake this process's
    dispatcher (its claim waits for the commit on the store's writer lock)."""
    if not endpoints:
        return
    outbox.queue_event_deliveries(ctx, event, endpoints)
    dispatcher = _DISPATCHERS.get(ctx.store)
    if dispatcher is not None:
        dispatcher.wake()


def reset(rt: Runtime) -> None:
    """Forget deliveries and endpoint settings (for ``POST /_sandbox/reset``)."""
    outbox.clear(rt.store)


__all__ = ["Dispatcher", "dispatcher_for", "install", "queue_deliveries", "reset"]
