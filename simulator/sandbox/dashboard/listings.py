"""What the dashboard shows, read through the store and each object's own serializer
(the JSON the API would answer), newest first, a page at a time."""

from __future__ import annotations

import datetime as _dt
import json
from dataclasses import dataclass
from typing import Any

from simulator.sandbox import account, timeline
from simulator.sandbox.resources.balance_transaction import format_amount
from simulator.sandbox.resources.base import Ctx, StripeObject, load_any
from simulator.sandbox.runtime import CLOCK_OFFSET_KEY, Runtime
from simulator.sandbox.webhooks import outbox

PAGE_SIZE = 50


@dataclass(frozen=True)
class Listing:
    """One page of objects as the API renders them; ``older`` is the cursor of the next
    page (the last object's id), or None on the last page."""

    items: list[dict[str, Any]]
    older: str | None


@dataclass(frozen=True)
class ClockView:
    now: int
    offset_seconds: float
    followers: list[str]

    @property
    def text(self) -> str:
        return format_time(self.now)

    @property
    def offset_text(self) -> str:
        return format_offset(self.offset_seconds)

    def to_dict(self) -> dict[str, Any]:
        return {"now": self.now, "text": self.text, "offset_seconds": self.offset_seconds,
                "offset_text": self.offset_text, "followers": self.followers}


def read_ctx(rt: Runtime, base_url: str) -> Ctx:
    """A context for rendering, in the account's default API version (as events are)."""
    return Ctx(store=rt.store, now=rt.clock.timestamp(), ids=rt.ids,
               api_version=account.default_api_version(rt.store), base_url=base_url,
               sink=rt.event_sink)


def page_of(ctx: Ctx, cls: type[StripeObject], *, older_than: str | None = None,
            event_type: str | None = None, limit: int | None = None) -> Listing:
    """A page of ``cls`` objects, newest first, after the ``older_than`` cursor."""
    limit = limit or PAGE_SIZE
    after = ctx.store.position(older_than, cls.OBJECT) if older_than else None
    globs = ("type", [event_type]) if event_type else None
    page = ctx.store.page(cls.OBJECT, limit=limit, after=after, globs=globs)
    items = [cls.from_state(row.data).serialize(ctx) for row in page.rows]
    return Listing(items, items[-1]["id"] if page.has_more and items else None)


def object_json(ctx: Ctx, object_id: str) -> dict[str, Any] | None:
    """Any stored object as the API renders it (None: no such object)."""
    obj = load_any(ctx, object_id)
    return obj.serialize(ctx) if obj is not None else None


def deliveries(rt: Runtime, *, event_id: str | None = None, endpoint_id: str | None = None,
               limit: int = PAGE_SIZE) -> list[dict[str, Any]]:
    """Webhook deliveries, newest first, each with every attempt."""
    return outbox.list_deliveries(rt.store, event_id=event_id, endpoint_id=endpoint_id,
                                  limit=limit)


def clock_view(rt: Runtime) -> ClockView:
    offset = float(rt.store.get_meta(CLOCK_OFFSET_KEY, "0") or 0)
    return ClockView(rt.clock.timestamp(), offset, timeline.followers(rt))


def state_version(rt: Runtime) -> str:
    """Changes whenever anything the dashboard shows changes: every state change of an
    object emits an event (a new row), every delivery attempt is logged, and the clock's
    offset and the armed faults are kept in the database. Cheap aggregates only, as
    every open dashboard asks every 2 seconds."""
    row = rt.store.conn.execute(
        "SELECT (SELECT max(rowid) FROM objects), (SELECT count(*) FROM objects),"
        " (SELECT max(seq) FROM webhook_deliveries), (SELECT max(id) FROM webhook_attempts),"
        " (SELECT count(*) FROM webhook_deliveries WHERE status = 'pending'),"
        " (SELECT coalesce(sum(remaining), 0) FROM faults),"
        " (SELECT value FROM meta WHERE key = ?)",
        (CLOCK_OFFSET_KEY,),
    ).fetchone()
    return ".".join("-" if value is None else str(value) for value in row)


# -- formatting ---------------------------------------------------------------------------
def format_time(timestamp: float | None) -> str:
    if timestamp is None:
        return ""
    moment = _dt.datetime.fromtimestamp(float(timestamp), tz=_dt.UTC)
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def format_relative(timestamp: float | None, now: float) -> str:
    """``in 23 h 59 min``, ``5 min ago``, ``now``."""
    if timestamp is None:
        return ""
    seconds = round(float(timestamp) - now)
    if abs(seconds) < 60:
        return "now"
    span = _span(abs(seconds))
    return f"in {span}" if seconds > 0 else f"{span} ago"


def format_offset(seconds: float) -> str:
    """How far the sandbox's clock is ahead of real time: ``+1 d 6 h``."""
    return "+0" if abs(seconds) < 60 else f"+{_span(round(seconds))}"


def _span(seconds: int) -> str:
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3_600)
    minutes = rest // 60
    parts = [(days, "d"), (hours, "h"), (minutes, "min")]
    shown = [f"{value} {unit}" for value, unit in parts if value][:2]
    return " ".join(shown) or "0 min"


def format_money(amount: int | None, currency: str | None) -> str:
    if amount is None or not currency:
        return ""
    return format_amount(int(amount), currency.lower())


def pretty_json(data: Any) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False)
