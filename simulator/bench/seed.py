"""Grow a sandbox's SQLite store fast, to measure it at a million objects.

Rows are cloned from real ones: a customer, its confirmed PaymentIntent, the charge, and
the ``customer.created`` / ``payment_intent.succeeded`` events, exactly as the sandbox
stored them (made through the API in-process when the file has none yet), each with its
list-filter rows (``object_filters``: a customer's email, an event's type). Each clone
gets fresh ids and an older ``created``, and goes in with ``executemany`` in large
transactions, so a million rows take tens of seconds rather than hours.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from simulator.common.clock import monotonic, system_time
from simulator.sandbox.schema import INDEX_COLUMNS, OBJECT_COLUMNS

BATCH_ROWS = 100_000
SPREAD_SECONDS = 365 * 24 * 3600
# The id length after the prefix, as Stripe makes them.
ID_LENGTHS = {"cus": 14, "pi": 24, "ch": 24, "evt": 24}
COLUMNS = tuple(OBJECT_COLUMNS)
DATA = COLUMNS.index("data")
FOREIGN_KEYS = tuple(COLUMNS.index(column) for column in INDEX_COLUMNS)
SELECT = f"SELECT rowid, {', '.join(COLUMNS)} FROM objects"
INSERT = (f"INSERT INTO objects (rowid, {', '.join(COLUMNS)})"
          f" VALUES (?, {', '.join('?' for _ in COLUMNS)})")
INSERT_FILTER = ("INSERT INTO object_filters (object_rowid, name, value, type, created)"
                 " VALUES (?, ?, ?, ?, ?)")
# A clone: its objects row (in COLUMNS order) and its list filters (name, value).
Clone = tuple[tuple[object, ...], list[tuple[str, str]]]


@dataclass(frozen=True)
class TemplateRow:
    values: tuple[object, ...]  # in COLUMNS order
    filters: tuple[tuple[str, str], ...] = ()

    @property
    def id(self) -> str:
        return str(self.values[0])

    @property
    def created(self) -> int:
        return int(self.values[2])  # type: ignore[call-overload]


@dataclass(frozen=True)
class SeedReport:
    rows: int
    seconds: float
    rows_per_second: float
    by_type: dict[str, int]
    total_objects: int


def _template(conn: sqlite3.Connection, row: tuple[object, ...] | None) -> TemplateRow | None:
    """A row read with ``SELECT`` (its rowid first), with its list filters."""
    if row is None:
        return None
    filters = conn.execute(
        "SELECT name, value FROM object_filters WHERE object_rowid = ? ORDER BY name", row[:1]
    ).fetchall()
    return TemplateRow(tuple(row[1:]), tuple(filters))


def _one(conn: sqlite3.Connection, where: str, args: tuple[object, ...]) -> TemplateRow | None:
    row = conn.execute(
        f"{SELECT} WHERE deleted = 0 AND {where} ORDER BY created DESC, rowid DESC LIMIT 1",
        args,
    ).fetchone()
    return _template(conn, row)


def _event_about(conn: sqlite3.Connection, event_type: str, object_id: str) -> TemplateRow | None:
    """The event of ``event_type`` about ``object_id``, among the latest thousand."""
    row = conn.execute(
        f"{SELECT} WHERE rowid IN (SELECT object_rowid FROM object_filters"
        " WHERE type = 'event' AND name = 'type' AND value = ?"
        " ORDER BY created DESC LIMIT 1000) AND instr(data, ?) > 0 LIMIT 1",
        (event_type, f'"id":"{object_id}"'),
    ).fetchone()
    return _template(conn, row)


def _coherent_group(conn: sqlite3.Connection) -> list[TemplateRow] | None:
    """A customer, its PaymentIntent and charge, and their events; None if no such PI."""
    intent = _one(conn, "type = 'payment_intent' AND customer IS NOT NULL", ())
    if intent is None:
        return None
    customer_id = str(intent.values[4])
    rows = [
        _one(conn, "type = 'customer' AND id = ?", (customer_id,)),
        intent,
        _one(conn, "type = 'charge' AND payment_intent = ?", (intent.id,)),
        _event_about(conn, "customer.created", customer_id),
        _event_about(conn, "payment_intent.succeeded", intent.id),
    ]
    return [row for row in rows if row is not None]


def load_templates(db_path: str) -> list[TemplateRow]:
    """The rows to clone, made through the API first if the file has no paid customer."""
    bring_up_to_date(db_path)
    conn = sqlite3.connect(db_path, timeout=30)
    try:
        group = _coherent_group(conn)
        if group is None:
            make_template_objects(db_path)
            group = _coherent_group(conn)
        if group is None:  # a sandbox without PaymentIntents: customers and their events
            customer = _one(conn, "type = 'customer'", ())
            group = [customer] if customer else []
            if customer is not None:
                event = _event_about(conn, "customer.created", customer.id)
                group += [event] if event else []
    finally:
        conn.close()
    if not group:
        raise RuntimeError(f"no objects to clone in {db_path}")
    return group


def bring_up_to_date(db_path: str) -> None:
    """Open the file as the sandbox does, so that one written by an older version gains
    its list-filter rows before rows are read and written here."""
    from simulator.sandbox import registrations
    from simulator.sandbox.store import Store

    registrations.register_everything()
    Store(db_path, indexer=registrations.INDEXER).close()


def make_template_objects(db_path: str) -> None:
    """A customer and a confirmed PaymentIntent, made through the sandbox in-process."""
    from simulator.sandbox.app import create_app
    from simulator.sandbox.runtime import SandboxConfig

    client = create_app(SandboxConfig(db_path=db_path)).test_client()
    headers = {"Authorization": "Bearer sk_test_seed"}
    customer = client.post("/v1/customers", headers=headers,
                           data={"email": "seed@example.com", "name": "Seed Bidder"})
    if customer.status_code != 200:
        raise RuntimeError(f"cannot create a template customer: {customer.get_data()!r}")
    client.post("/v1/payment_intents", headers=headers, data={
        "amount": "2000", "currency": "usd", "payment_method": "pm_card_visa",
        "confirm": "true", "customer": customer.get_json()["id"],
    })  # optional: absent until the sandbox has PaymentIntents


GROUP_SLOTS = 10  # ids per group and prefix: serial * GROUP_SLOTS + the template's slot


def _new_id(prefix: str, serial: int, slot: int) -> str:
    length = ID_LENGTHS.get(prefix, 24)
    return f"{prefix}_S{serial * GROUP_SLOTS + slot:0{length - 1}d}"


class Cloner:
    """Clones a group of template rows with every template id replaced consistently."""

    def __init__(self, templates: list[TemplateRow]) -> None:
        self.templates = templates
        self.slots = {t.id: (t.id.split("_", 1)[0], slot) for slot, t in enumerate(templates)}
        self.emails = [value for t in templates if t.values[1] == "customer"
                       for name, value in t.filters if name == "email"]

    def group(self, serial: int, created: int) -> Iterator[Clone]:
        mapping = {old: _new_id(prefix, serial, slot) for old, (prefix, slot) in self.slots.items()}
        for email in self.emails:  # customers' emails are indexed; keep them distinct
            mapping[email] = f"bidder-{serial}@example.com"
        for template in self.templates:
            values = list(template.values)
            text = str(values[DATA])
            for old, new in mapping.items():
                if old in text:
                    text = text.replace(old, new)
            text = text.replace(f'"created":{template.created}', f'"created":{created}')
            values[0] = mapping[template.id]
            values[2] = created
            for column in FOREIGN_KEYS:
                value = values[column]
                if isinstance(value, str):
                    values[column] = mapping.get(value, value)
            values[DATA] = text
            filters = [(name, mapping.get(value, value)) for name, value in template.filters]
            yield tuple(values), filters


def seed(db_path: str, objects: int, *, batch_rows: int = BATCH_ROWS,
         progress: Callable[[str], None] | None = None) -> SeedReport:
    """Insert about ``objects`` rows (whole groups) into ``db_path``'s ``objects`` table."""
    if not Path(db_path).exists():
        raise FileNotFoundError(db_path)
    templates = load_templates(db_path)
    cloner = Cloner(templates)
    groups = max(1, objects // len(templates))
    now = int(system_time())
    first_created = now - SPREAD_SECONDS
    step = max(1, SPREAD_SECONDS // groups)
    serial_base = _next_serial(db_path)
    started = monotonic()
    conn = sqlite3.connect(db_path, timeout=60, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA cache_size=-200000")
    inserted = 0
    batch: list[Clone] = []
    by_type: dict[str, int] = {}
    try:
        for g in range(groups):
            created = first_created + g * step
            batch.extend(cloner.group(serial_base + g, created))
            if len(batch) >= batch_rows:
                inserted += _write(conn, batch, by_type)
                batch = []
                if progress is not None:
                    rate = inserted / (monotonic() - started)
                    progress(f"  seeded {inserted:,} rows ({rate:,.0f}/s)")
        inserted += _write(conn, batch, by_type)
        total = int(conn.execute("SELECT count(*) FROM objects").fetchone()[0])
    finally:
        conn.close()
    seconds = monotonic() - started
    return SeedReport(inserted, round(seconds, 1), round(inserted / seconds, 0), by_type, total)


def _next_serial(db_path: str) -> int:
    """Serials continue after earlier seeding runs, so ids never collide."""
    digits = ID_LENGTHS["cus"] - 1
    pattern = "cus_S" + "[0-9]" * digits  # seeded ids only, never a random real one
    conn = sqlite3.connect(db_path, timeout=30)
    try:
        row = conn.execute(
            "SELECT max(id) FROM objects WHERE type = 'customer' AND id GLOB ?", (pattern,)
        ).fetchone()
    finally:
        conn.close()
    if not row or not row[0]:
        return 1
    return int(str(row[0])[len("cus_S"):]) // GROUP_SLOTS + 1


def _write(conn: sqlite3.Connection, clones: list[Clone], by_type: dict[str, int]) -> int:
    """Each clone's row goes in with a rowid of its own choosing, which its filter rows
    (keyed by rowid) name."""
    if not clones:
        return 0
    conn.execute("BEGIN IMMEDIATE")
    try:
        first = int(conn.execute("SELECT coalesce(max(rowid), 0) + 1 FROM objects").fetchone()[0])
        conn.executemany(INSERT, [(first + n, *values) for n, (values, _) in enumerate(clones)])
        conn.executemany(INSERT_FILTER, [
            (first + n, name, value, values[1], values[2])
            for n, (values, filters) in enumerate(clones) for name, value in filters
        ])
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
    for values, _ in clones:
        by_type[str(values[1])] = by_type.get(str(values[1]), 0) + 1
    return len(clones)
