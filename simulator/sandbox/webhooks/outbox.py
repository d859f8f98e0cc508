"""The webhook outbox: one row per (event, endpoint) to deliver, written in the same
transaction as the event, and the log of every attempt.

Queuing inside the event's transaction means an event is never lost (it commits with its
deliveries or not at all) and never queued twice. Deliveries are then claimed with a
lease (``lease_until``, system time) so that one delivery is never attempted by two
threads or processes at once, and a delivery whose process died mid-attempt is claimed
again once its lease runs out: delivery is at least once, as on Stripe
(https://docs.stripe.com/webhooks#handle-duplicate-events).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from simulator.sandbox.resources.base import Ctx, find, load, load_any, save
from simulator.sandbox.resources.event import Event
from simulator.sandbox.resources.webhook_endpoint import WebhookEndpoint, subscribed_endpoints
from simulator.sandbox.store import Store
from simulator.sandbox.webhooks import settings as config

Status = Literal["pending", "delivered", "failed"]
# ``event``: the delivery Stripe makes for an event (counted in ``pending_webhooks``);
# ``duplicate``: an extra copy made by the chaos option; ``resend``: asked for by hand.
Kind = Literal["event", "duplicate", "resend"]
RESPONSE_EXCERPT_CHARS = 500
_SETTINGS_CACHE_KEY = "webhook_endpoint_settings"

TABLES = ("webhook_attempts", "webhook_deliveries", "webhook_endpoint_settings")


@dataclass(frozen=True)
class Claim:
    """A delivery this thread holds the lease on, about to be attempted."""

    id: str
    event_id: str
    endpoint_id: str
    kind: str
    attempt: int
    created: float
    due_at: float
    api_version: str | None
    object_override: str | None
    lease_token: str


@dataclass(frozen=True)
class Outcome:
    """What one HTTP attempt got back."""

    url: str
    attempted_at: float
    duration_ms: float
    status_code: int | None = None
    error: str | None = None
    body: str = ""

    @property
    def succeeded(self) -> bool:
        """Stripe counts any 2xx as delivered; redirects and everything else fail."""
        return self.status_code is not None and 200 <= self.status_code < 300


def clear(store: Store) -> None:
    """Forget every delivery and endpoint setting (``POST /_sandbox/reset``)."""
    with store.transaction() as conn:
        for table in TABLES:
            conn.execute(f"DELETE FROM {table}")


# -- queuing (inside the event's transaction) -------------------------------------------
def queue_event_deliveries(
    ctx: Ctx, event: Event, endpoints: Sequence[WebhookEndpoint]
) -> list[str]:
    """The event log's listener: one delivery per subscribed endpoint (plus chaos
    copies), due now on the sandbox clock."""
    queued: list[str] = []
    for endpoint in endpoints:
        chaos = _settings(ctx, endpoint.id).chaos
        override = _versioned_object(ctx, event, endpoint.api_version)
        due = ctx.now + chaos.delay_ms / 1000
        for copy in range(1 + max(chaos.duplicate, 0)):
            kind: Kind = "event" if copy == 0 else "duplicate"
            queued.append(_insert(ctx, event.id, endpoint, kind, due, chaos.reorder, override))
    return queued


def resend_event(ctx: Ctx, event_id: str, endpoint_id: str | None = None) -> list[str]:
    """Fresh deliveries of an event, as the Dashboard's "Resend" and ``stripe events
    resend`` do: to one endpoint, or to every enabled endpoint subscribed to its type."""
    event = load(ctx, Event, event_id)
    if endpoint_id is not None:
        endpoints = [load(ctx, WebhookEndpoint, endpoint_id, param="endpoint")]
    else:
        endpoints = subscribed_endpoints(ctx, event.type)
    return [
        _insert(ctx, event.id, endpoint, "resend", ctx.now, False,
                _versioned_object(ctx, event, endpoint.api_version))
        for endpoint in endpoints
    ]


def _insert(
    ctx: Ctx,
    event_id: str,
    endpoint: WebhookEndpoint,
    kind: Kind,
    due: float,
    held: bool,
    override: dict[str, Any] | None,
) -> str:
    delivery_id = ctx.ids.new("whdel")
    ctx.store.conn.execute(
        "INSERT INTO webhook_deliveries (id, event_id, endpoint_id, kind, next_attempt_at,"
        " held, created, api_version, object_override) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            delivery_id,
            event_id,
            endpoint.id,
            kind,
            due,
            int(held),
            float(ctx.now),
            endpoint.api_version,
            json.dumps(override) if override is not None else None,
        ),
    )
    return delivery_id


def _settings(ctx: Ctx, endpoint_id: str) -> config.EndpointDelivery:
    cache: dict[str, config.EndpointDelivery] = ctx.cache.setdefault(_SETTINGS_CACHE_KEY, {})
    if endpoint_id not in cache:
        cache[endpoint_id] = config.endpoint_settings(ctx.store, endpoint_id)
    return cache[endpoint_id]


def _versioned_object(ctx: Ctx, event: Event, version: str | None) -> dict[str, Any] | None:
    """``data.object`` rendered in an endpoint's pinned API version
    (https://docs.stripe.com/webhooks/versioning), or ``None`` to send it as stored.

    The event keeps only the rendered object, so we re-render the stored object, and
    only when it still is exactly what the event shows (true while the emitting
    transaction is open, for every event emitted right after saving its object).
    """
    if not version or version == event.api_version:
        return None
    shown = event.data.get("object")
    stored = load_any(ctx, shown.get("id", "")) if isinstance(shown, dict) else None
    if stored is None or stored.serialize(ctx.with_version(event.api_version)) != shown:
        return None
    return stored.serialize(ctx.with_version(version))


# -- claiming and recording -------------------------------------------------------------
def claim_due(
    store: Store,
    *,
    now: float,
    system_now: float,
    lease_seconds: float,
    token: str,
    limit: int,
    held: bool = False,
) -> list[Claim]:
    """Lease up to ``limit`` due deliveries: pending, due on the sandbox clock and not
    leased (or leased by a process whose lease ran out). Held ones go newest first."""
    order = "seq DESC" if held else "next_attempt_at, seq"
    with store.transaction() as conn:
        rows = conn.execute(
            "UPDATE webhook_deliveries SET lease_until = ?, lease_token = ?, held = 0"
            " WHERE seq IN (SELECT seq FROM webhook_deliveries WHERE status = 'pending'"
            " AND held = ? AND next_attempt_at <= ? AND lease_until < ?"
            f" ORDER BY {order} LIMIT ?)"
            " RETURNING seq, id, event_id, endpoint_id, kind, attempts, created, next_attempt_at,"
            " api_version, object_override",
            (system_now + lease_seconds, token, int(held), now, system_now, limit),
        ).fetchall()
    rows.sort(key=lambda r: -r[0] if held else r[0])
    return [Claim(r[1], r[2], r[3], r[4], r[5] + 1, r[6], r[7], r[8], r[9], token) for r in rows]


def has_due(store: Store, now: float, system_now: float) -> bool:
    """A cheap read (no write lock) before trying to claim anything."""
    row = store.conn.execute(
        "SELECT 1 FROM webhook_deliveries WHERE status = 'pending' AND held = 0"
        " AND next_attempt_at <= ? AND lease_until < ? LIMIT 1",
        (now, system_now),
    ).fetchone()
    return row is not None


def in_flight(store: Store, now: float, system_now: float) -> int:
    """Due deliveries another thread or process is attempting right now."""
    row = store.conn.execute(
        "SELECT count(*) FROM webhook_deliveries WHERE status = 'pending'"
        " AND next_attempt_at <= ? AND lease_until >= ?",
        (now, system_now),
    ).fetchone()
    return int(row[0])


@dataclass(frozen=True)
class Attempted:
    """An attempt made, to record: retried at ``retry_at`` (sandbox time) when it
    failed, or failed for good when ``retry_at`` is ``None``."""

    claim: Claim
    outcome: Outcome
    retry_at: float | None = None

    @property
    def status(self) -> Status:
        if self.outcome.succeeded:
            return "delivered"
        return "pending" if self.retry_at is not None else "failed"


def record_attempts(ctx: Ctx, attempts: Sequence[Attempted]) -> list[Status]:
    """Log the attempts and move their deliveries on, in one transaction.

    Only the holder of the lease moves a delivery on; an attempt whose lease ran out
    (its process stalled and another took over) is logged and nothing more."""
    with ctx.store.transaction() as conn:
        for attempted in attempts:
            _log_attempt(conn, attempted.claim, attempted.outcome)
            settled = _settle(conn, attempted)
            if settled and attempted.status == "delivered" and attempted.claim.kind == "event":
                _one_webhook_less(ctx, attempted.claim.event_id)
    return [attempted.status for attempted in attempts]


def _settle(conn: sqlite3.Connection, attempted: Attempted) -> bool:
    claim, outcome = attempted.claim, attempted.outcome
    updated = conn.execute(
        "UPDATE webhook_deliveries SET status = ?, attempts = ?, next_attempt_at = ?,"
        " lease_until = 0, lease_token = NULL, delivered_at = ?"
        " WHERE id = ? AND lease_token = ? AND status = 'pending'",
        (
            attempted.status,
            claim.attempt,
            attempted.retry_at if attempted.retry_at is not None else claim.due_at,
            outcome.attempted_at if outcome.succeeded else None,
            claim.id,
            claim.lease_token,
        ),
    ).rowcount
    return bool(updated)


def _log_attempt(conn: sqlite3.Connection, claim: Claim, outcome: Outcome) -> None:
    conn.execute(
        "INSERT INTO webhook_attempts (delivery_id, attempt, attempted_at, url, status_code,"
        " error, duration_ms, response_body) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (
            claim.id,
            claim.attempt,
            outcome.attempted_at,
            outcome.url,
            outcome.status_code,
            outcome.error,
            round(outcome.duration_ms, 3),
            outcome.body[:RESPONSE_EXCERPT_CHARS],
        ),
    )


def _one_webhook_less(ctx: Ctx, event_id: str) -> None:
    """``pending_webhooks`` counts the endpoints not yet sent the event successfully
    (https://docs.stripe.com/api/events/object#event_object-pending_webhooks)."""
    event = find(ctx, Event, event_id)
    if event is not None and event.pending_webhooks > 0:
        event.pending_webhooks -= 1
        save(ctx, event)


# -- reading ----------------------------------------------------------------------------
_DELIVERY_KEYS = ("id", "event_id", "endpoint_id", "kind", "status", "attempts",
                  "next_attempt_at", "lease_until", "held", "created", "delivered_at",
                  "api_version", "event_type")
_DELIVERY_COLUMNS = ", ".join(f"d.{key}" for key in _DELIVERY_KEYS[:-1]) + (
    ", json_extract(e.data, '$.type')")  # the event's type
_DELIVERY_FROM = "webhook_deliveries d LEFT JOIN objects e ON e.id = d.event_id"


def list_deliveries(
    store: Store,
    *,
    event_id: str | None = None,
    endpoint_id: str | None = None,
    status: str | None = None,
    limit: int = 100,
) -> list[dict[str, Any]]:
    """Newest first, each with its attempts."""
    where, args = ["1 = 1"], []
    for column, value in (("event_id", event_id), ("endpoint_id", endpoint_id),
                          ("status", status)):
        if value is not None:
            where.append(f"d.{column} = ?")
            args.append(value)
    rows = store.conn.execute(
        f"SELECT {_DELIVERY_COLUMNS} FROM {_DELIVERY_FROM} WHERE {' AND '.join(where)}"
        " ORDER BY d.seq DESC LIMIT ?",
        (*args, limit),
    ).fetchall()
    return [_delivery_dict(store, row) for row in rows]


def get_delivery(store: Store, delivery_id: str) -> dict[str, Any] | None:
    row = store.conn.execute(
        f"SELECT {_DELIVERY_COLUMNS} FROM {_DELIVERY_FROM} WHERE d.id = ?", (delivery_id,)
    ).fetchone()
    return _delivery_dict(store, row) if row else None


def counts(store: Store) -> dict[str, int]:
    rows = store.conn.execute(
        "SELECT status, count(*) FROM webhook_deliveries GROUP BY status"
    ).fetchall()
    found = {str(status): int(n) for status, n in rows}
    return {status: found.get(status, 0) for status in ("pending", "delivered", "failed")}


def _delivery_dict(store: Store, row: Sequence[Any]) -> dict[str, Any]:
    data = dict(zip(_DELIVERY_KEYS, row, strict=True))
    data = {
        "id": data["id"],
        "object": "sandbox.webhook_delivery",
        "event": data["event_id"],
        "event_type": data["event_type"],
        "endpoint": data["endpoint_id"],
        "kind": data["kind"],
        "status": data["status"],
        "attempt_count": data["attempts"],
        "next_attempt_at": data["next_attempt_at"] if data["status"] == "pending" else None,
        "held": bool(data["held"]),
        "leased": data["lease_until"] > 0,
        "created": data["created"],
        "delivered_at": data["delivered_at"],
        "api_version": data["api_version"],
    }
    data["attempts"] = _attempts(store, data["id"])
    return data


def _attempts(store: Store, delivery_id: str) -> list[dict[str, Any]]:
    rows = store.conn.execute(
        "SELECT attempt, attempted_at, url, status_code, error, duration_ms, response_body"
        " FROM webhook_attempts WHERE delivery_id = ? ORDER BY id",
        (delivery_id,),
    ).fetchall()
    keys = ("attempt", "attempted_at", "url", "status_code", "error", "duration_ms",
            "response_body")
    return [{"delivery": delivery_id, **dict(zip(keys, row, strict=True))} for row in rows]
