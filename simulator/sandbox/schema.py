"""Every table of the sandbox's SQLite file, created in one place.

``Store`` runs :func:`create_schema` when it opens a file and again after restoring a
snapshot, so an older file or snapshot gains the tables added since. A new table is added
here, and nowhere else.
"""

from __future__ import annotations

import sqlite3

import sqlite_utils

# Filterable columns of ``objects`` (each with a partial index): the foreign keys that
# mean the same on every type. Every other list filter is a row of ``object_filters``.
INDEX_COLUMNS = ("customer", "payment_intent", "charge")
# Every column of ``objects``; an older file's column that is not here is unused.
OBJECT_COLUMNS: dict[str, type] = {
    "id": str, "type": str, "created": int, "deleted": int,
    **{column: str for column in INDEX_COLUMNS}, "data": str,
}
# The named list filters each object declares (``StripeObject.FILTERS``), one row per
# name that has a value. ``object_rowid`` is the object's rowid, the list order's
# tie-break within a second, so the listing index gives a whole page newest first
# (type, name, value, then created and rowid descending) without sorting.
OBJECT_FILTERS = (
    """CREATE TABLE IF NOT EXISTS object_filters (
        object_rowid INTEGER NOT NULL,
        name TEXT NOT NULL,
        value TEXT NOT NULL,
        type TEXT NOT NULL,
        created INTEGER NOT NULL,
        PRIMARY KEY (object_rowid, name)
    ) WITHOUT ROWID""",
    "CREATE INDEX IF NOT EXISTS object_filters_listing"
    " ON object_filters (type, name, value, created, object_rowid)",
)

# What the control plane's fault switches hold (``faults.py``).
FAULTS = (
    "CREATE TABLE IF NOT EXISTS faults (id INTEGER PRIMARY KEY, method TEXT,"
    " path TEXT, action TEXT, remaining INTEGER, status INTEGER,"
    " retry_after INTEGER, delay_ms INTEGER)"
)
# Failed requests, for the dashboard's request log (``runtime.py``).
REQUEST_LOG = (
    "CREATE TABLE IF NOT EXISTS request_log (id TEXT PRIMARY KEY, created REAL,"
    " method TEXT, path TEXT, status INTEGER, body TEXT)"
)
# Request counts behind ``/metrics`` (``metrics.py``), shared by every worker.
REQUEST_COUNTS = (
    "CREATE TABLE IF NOT EXISTS request_counts (route TEXT NOT NULL, method TEXT NOT NULL,"
    " status INTEGER NOT NULL, count INTEGER NOT NULL, PRIMARY KEY (route, method, status))"
)
# The webhook outbox: deliveries and their attempts (``webhooks/outbox.py``).
WEBHOOK_DELIVERIES = (
    """CREATE TABLE IF NOT EXISTS webhook_deliveries (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        event_id TEXT NOT NULL,
        endpoint_id TEXT NOT NULL,
        kind TEXT NOT NULL DEFAULT 'event',
        status TEXT NOT NULL DEFAULT 'pending',
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at REAL NOT NULL,
        lease_until REAL NOT NULL DEFAULT 0,
        lease_token TEXT,
        held INTEGER NOT NULL DEFAULT 0,
        created REAL NOT NULL,
        delivered_at REAL,
        api_version TEXT,
        object_override TEXT
    )""",
    "CREATE INDEX IF NOT EXISTS webhook_deliveries_due"
    " ON webhook_deliveries (status, held, next_attempt_at)",
    "CREATE INDEX IF NOT EXISTS webhook_deliveries_event ON webhook_deliveries (event_id)",
    "CREATE INDEX IF NOT EXISTS webhook_deliveries_endpoint"
    " ON webhook_deliveries (endpoint_id, seq)",
    """CREATE TABLE IF NOT EXISTS webhook_attempts (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        delivery_id TEXT NOT NULL,
        attempt INTEGER NOT NULL,
        attempted_at REAL NOT NULL,
        url TEXT NOT NULL,
        status_code INTEGER,
        error TEXT,
        duration_ms REAL NOT NULL,
        response_body TEXT
    )""",
    "CREATE INDEX IF NOT EXISTS webhook_attempts_delivery ON webhook_attempts (delivery_id)",
)
# Per-endpoint delivery settings (``webhooks/settings.py``).
WEBHOOK_ENDPOINT_SETTINGS = """
CREATE TABLE IF NOT EXISTS webhook_endpoint_settings (
    endpoint_id TEXT PRIMARY KEY,
    profile TEXT,
    chaos TEXT NOT NULL DEFAULT '{}',
    rolled_secrets TEXT NOT NULL DEFAULT '[]'
)
"""


def create_schema(conn: sqlite3.Connection) -> None:
    db = sqlite_utils.Database(conn)
    objects = db.table("objects")
    if not objects.exists():
        objects.create(
            OBJECT_COLUMNS,
            pk="id",
            not_null={"type", "created", "data"},
            defaults={"deleted": 0},
        )
    else:
        _drop_indexes_of_retired_columns(conn)
    objects.create_index(["type", "created"], if_not_exists=True)
    # Most rows leave most of these columns NULL. Partial indexes skip those rows, so a
    # write touches (and a commit copies to the WAL) about 40% fewer pages.
    for column in INDEX_COLUMNS:
        conn.execute(f"DROP INDEX IF EXISTS idx_objects_{column}_type_created")
        conn.execute(
            f"CREATE INDEX IF NOT EXISTS objects_by_{column} ON objects ({column}, type, created)"
            f" WHERE {column} IS NOT NULL"
        )
    db.table("idempotency_keys").create(
        {
            "key": str,
            "fingerprint": str,
            "endpoint": str,
            "status": str,
            "created": float,
            "claimed_at": float,
            "response_status": int,
            "response_body": str,
            "request_id": str,
        },
        pk="key",
        if_not_exists=True,
    )
    db.table("meta").create({"key": str, "value": str}, pk="key", if_not_exists=True)
    db.table("jobs").create(
        {
            "id": int,
            "kind": str,
            "ref": str,
            "due_at": float,
            "claimed_until": float,
            "attempts": int,
        },
        pk="id",
        defaults={"claimed_until": 0, "attempts": 0},
        if_not_exists=True,
    )
    db.table("jobs").create_index(["due_at"], if_not_exists=True)
    db.table("jobs").create_index(["kind", "ref"], unique=True, if_not_exists=True)
    for statement in (*OBJECT_FILTERS, FAULTS, REQUEST_LOG, REQUEST_COUNTS,
                      *WEBHOOK_DELIVERIES, WEBHOOK_ENDPOINT_SETTINGS):
        conn.execute(statement)


def _drop_indexes_of_retired_columns(conn: sqlite3.Connection) -> None:
    """A file from an older version may have an ``objects`` column no longer declared
    (the one list-filter column that ``object_filters`` replaced). The column stays,
    unused and NULL in new rows, since dropping it would rewrite every row (seconds per
    hundred thousand objects); the indexes on it go. Its values are rebuilt from each
    object's data when the sandbox re-indexes the file (``Store``'s indexer)."""
    present = {row[1] for row in conn.execute("PRAGMA table_info(objects)")}
    retired = present - set(OBJECT_COLUMNS)
    if not retired:
        return
    for index in [row[1] for row in conn.execute("PRAGMA index_list(objects)")]:
        columns = {row[2] for row in conn.execute(f"PRAGMA index_info({index})")}
        if columns & retired:
            conn.execute(f"DROP INDEX {index}")
