"""The payment service's tables, indexes and constraints, in one place.

``create_schema`` runs when the store is opened (``Store.__init__``), inside one write
transaction; every statement is idempotent, so it also brings a database made by an
older version up to date: missing tables and indexes are created, and a table of
``TABLES`` that lacks a column added since gets it (nullable) from
``_add_missing_columns``. The fraud and text-message tables (``SQL_TABLES``) are written
in SQL, exactly as their adapters first made them; a column added to one of them needs
its own ``ALTER TABLE`` here.

The constraints are the last line against doubling anything:

- one live (``open``/``processing``) payment session per win (a partial UNIQUE index),
- one transaction per PaymentIntent, one order per win, one job per (kind, ref),
- one queued mail per dedupe key, one inbox row per Stripe event id.
"""

from __future__ import annotations

import sqlite3
from typing import Any

import sqlite_utils

TABLES: dict[str, tuple[dict[str, Any], str]] = {
    "users": ({"id": str, "name": str, "email": str, "role": str, "api_token": str,
               "country": str, "email_index": str, "password_hash": str}, "id"),
    "wins": ({"id": str, "lot": int, "title": str, "seller_id": str, "buyer_id": str,
              "amount": int, "currency": str, "ended_at": int}, "id"),
    "payment_sessions": ({
        "id": str, "win_id": str, "buyer_id": str, "attempt": int, "status": str,
        "idempotency_key": str, "expires_at": int, "window_ends_at": int,
        "created_at": int, "updated_at": int, "checkout_session_id": str,
        "checkout_url": str, "payment_intent_id": str, "failure_code": str,
        "failure_reason": str}, "id"),
    "transactions": ({
        "id": str, "payment_session_id": str, "win_id": str, "amount": int, "fee": int,
        "net": int, "currency": str, "status": str, "card_brand": str, "card_last4": str,
        "three_d_secure_result": str, "risk_level": str, "risk_score": int,
        "charge_id": str, "payment_intent_id": str, "created_at": int,
        "card_country": str, "amount_refunded": int, "review_status": str,
        "review_flags": str}, "id"),
    "orders": ({"id": str, "win_id": str, "buyer_id": str, "status": str,
                "created_at": int, "updated_at": int, "transaction_id": str,
                "receipt_path": str, "receipt_sha256": str}, "id"),
    "webhook_inbox": ({"event_id": str, "type": str, "payload": str, "received_at": int,
                       "status": str, "attempts": int, "error": str,
                       "processed_at": int, "claimed_by": str, "claimed_until": float},
                      "event_id"),
    "service_state": ({"key": str, "value": str, "updated_at": int}, "key"),
    "audit_log": ({"id": int, "actor": str, "action": str, "subject_type": str,
                   "subject_id": str, "before": str, "after": str, "at": int,
                   "previous_hash": str, "hash": str}, "id"),
    "alerts": ({"id": int, "kind": str, "severity": str, "message": str,
                "subject_id": str, "at": int, "acknowledged": int}, "id"),
    "security_events": ({"id": int, "kind": str, "detail": str, "remote_addr": str,
                         "at": int, "count": int, "bucket": int}, "id"),
    "jobs": ({"id": int, "kind": str, "ref": str, "due_at": float, "claimed_until": float,
              "claimed_by": str, "attempts": int, "done": int, "last_error": str,
              "created_at": int}, "id"),
    "mail_outbox": ({"id": int, "dedupe_key": str, "to_addr": str, "subject": str,
                     "body": str, "receipt_order_id": str, "status": str, "attempts": int,
                     "last_error": str, "created_at": int, "sent_at": int, "to_index": str},
                    "id"),
    # Chargebacks on our payments (``adapters/disputes.py``), Stripe's latest word on each.
    "disputes": ({"id": str, "transaction_id": str, "charge_id": str, "amount": int,
                  "currency": str, "reason": str, "status": str, "evidence_due_by": int,
                  "opened_at": int, "updated_at": int}, "id"),
    # Request latencies for /metrics (``web/metrics.py``): one row per histogram bucket.
    "latency_buckets": ({"id": int, "metric": str, "label": str, "le": str,
                         "count": int, "total": float}, "id"),
}
NOT_NULL: dict[str, set[str]] = {
    "payment_sessions": {"win_id", "buyer_id", "attempt", "status", "idempotency_key"},
    "transactions": {"payment_session_id", "win_id", "payment_intent_id", "amount"},
    "orders": {"win_id", "buyer_id", "status"},
    "jobs": {"kind", "ref", "due_at"},
}
DEFAULTS: dict[str, dict[str, Any]] = {
    "webhook_inbox": {"attempts": 1, "status": "received"},
    "alerts": {"acknowledged": 0},
    "jobs": {"attempts": 0, "done": 0},
    "mail_outbox": {"attempts": 0, "status": "pending"},
    "transactions": {"amount_refunded": 0, "review_status": "none", "review_flags": "[]"},
}
FOREIGN_KEYS: dict[str, list[tuple[str, str, str]]] = {
    "payment_sessions": [("win_id", "wins", "id")],
    "transactions": [("payment_session_id", "payment_sessions", "id")],
    "orders": [("win_id", "wins", "id")],
    "disputes": [("transaction_id", "transactions", "id")],
}
UNIQUE_INDEXES: dict[str, list[list[str]]] = {
    "users": [["api_token"]],
    "payment_sessions": [["win_id", "attempt"], ["idempotency_key"],
                         ["checkout_session_id"]],
    "transactions": [["payment_intent_id"]],
    "orders": [["win_id"]],
    "jobs": [["kind", "ref"]],
    "mail_outbox": [["dedupe_key"]],
    "latency_buckets": [["metric", "label", "le"]],
}
INDEXES: dict[str, list[list[str]]] = {
    "users": [["email_index"]],
    "wins": [["buyer_id"]],
    "payment_sessions": [["payment_intent_id"], ["status"]],
    "audit_log": [["subject_type", "subject_id"]],
    "security_events": [["kind", "at"], ["kind", "bucket"]],
    "jobs": [["done", "due_at"]],
    "webhook_inbox": [["status"]],
    "alerts": [["kind", "at"]],
    "mail_outbox": [["status"], ["to_index"]],
    "disputes": [["transaction_id"], ["status"]],
}
# Encrypted at rest: contact details and the texts that may carry them.
ENCRYPTED: dict[str, tuple[str, ...]] = {
    "users": ("name", "email"),
    "webhook_inbox": ("payload", "error"),
    "mail_outbox": ("to_addr", "body", "last_error"),
    "service_state": ("value",),
    "alerts": ("message",),
    "security_events": ("detail",),
}
# Plain text an older version wrote there is encrypted at start-up (every write to these
# goes through the storage package); ``stripe-sim keys rotate`` re-encrypts every column above.
ENCRYPTED_AT_START = ("users", "webhook_inbox", "mail_outbox", "service_state")
# Blind indexes: the column looked up by equality, and the column holding its HMAC.
BLIND_INDEXES: dict[str, tuple[str, str]] = {
    "users": ("email", "email_index"),
    "mail_outbox": ("to_addr", "to_index"),
}
# The ``service_state`` key of the audit chain's head (``audit.py``).
AUDIT_HEAD = "audit_head"
# Tables declared in SQL: the fraud signals and every rule's decision
# (``adapters/fraud_signals.py``), and the buyers' phones and the SMS outbox
# (``adapters/sms_records.py``). Test mode's reset clears them through those adapters.
FRAUD_TABLES = (
    "CREATE TABLE IF NOT EXISTS fraud_checkout_signals (payment_session_id TEXT PRIMARY KEY,"
    " buyer_id TEXT NOT NULL, win_id TEXT NOT NULL, ip TEXT, network TEXT, device TEXT,"
    " created_at INTEGER NOT NULL)",
    "CREATE INDEX IF NOT EXISTS fraud_signals_buyer ON fraud_checkout_signals (buyer_id,"
    " created_at)",
    "CREATE INDEX IF NOT EXISTS fraud_signals_ip ON fraud_checkout_signals (ip, created_at)",
    "CREATE INDEX IF NOT EXISTS fraud_signals_device ON fraud_checkout_signals (device,"
    " created_at)",
    "CREATE INDEX IF NOT EXISTS fraud_signals_network ON fraud_checkout_signals (network,"
    " created_at)",
    "CREATE TABLE IF NOT EXISTS fraud_card_uses (transaction_id TEXT PRIMARY KEY,"
    " buyer_id TEXT NOT NULL, fingerprint TEXT NOT NULL, created_at INTEGER NOT NULL)",
    "CREATE INDEX IF NOT EXISTS fraud_card_fingerprint ON fraud_card_uses (fingerprint,"
    " created_at)",
    "CREATE TABLE IF NOT EXISTS fraud_decisions (id INTEGER PRIMARY KEY, stage TEXT NOT NULL,"
    " subject_type TEXT NOT NULL, subject_id TEXT NOT NULL, rule TEXT NOT NULL,"
    " decision TEXT NOT NULL, code TEXT NOT NULL, reason TEXT NOT NULL,"
    " verdict TEXT NOT NULL, created_at INTEGER NOT NULL)",
    "CREATE INDEX IF NOT EXISTS fraud_decisions_subject ON fraud_decisions (subject_type,"
    " subject_id)",
)
TEXT_MESSAGE_TABLES = (
    "CREATE TABLE IF NOT EXISTS user_phones (user_id TEXT PRIMARY KEY, phone TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS sms_outbox (id INTEGER PRIMARY KEY, dedupe_key TEXT NOT NULL"
    " UNIQUE, to_number TEXT NOT NULL, body TEXT NOT NULL, status TEXT NOT NULL DEFAULT"
    " 'pending', attempts INTEGER NOT NULL DEFAULT 0, last_error TEXT, provider_id TEXT,"
    " created_at INTEGER NOT NULL, sent_at INTEGER)",
    "CREATE INDEX IF NOT EXISTS sms_outbox_status ON sms_outbox (status)",
)
SQL_TABLES = FRAUD_TABLES + TEXT_MESSAGE_TABLES
# The serialization point for concurrent checkouts of one win: a second live session
# cannot be inserted, whatever process tries.
LIVE_SESSION_INDEX = (
    "CREATE UNIQUE INDEX IF NOT EXISTS one_live_session_per_win ON payment_sessions(win_id)"
    " WHERE status IN ('open', 'processing')"
)


def create_schema(conn: sqlite3.Connection) -> None:
    """Every table and index of the service (the caller holds a write transaction)."""
    db = sqlite_utils.Database(conn)
    for name, (table_columns, pk) in TABLES.items():
        db[name].create(table_columns, pk=pk, not_null=NOT_NULL.get(name),  # type: ignore[union-attr]
                        defaults=DEFAULTS.get(name), foreign_keys=FOREIGN_KEYS.get(name),
                        if_not_exists=True)
        _add_missing_columns(db, name, table_columns)
    for name, unique in UNIQUE_INDEXES.items():
        for columns in unique:
            db[name].create_index(columns, unique=True, if_not_exists=True)  # type: ignore[union-attr]
    for name, indexes in INDEXES.items():
        for columns in indexes:
            db[name].create_index(columns, if_not_exists=True)  # type: ignore[union-attr]
    conn.execute(LIVE_SESSION_INDEX)
    for statement in SQL_TABLES:
        conn.execute(statement)


def _add_missing_columns(db: sqlite_utils.Database, name: str,
                         table_columns: dict[str, Any]) -> None:
    """A database made by an older version gets the columns added since (nullable)."""
    existing = set(db[name].columns_dict)
    for column, kind in table_columns.items():
        if column not in existing:
            db[name].add_column(column, kind)  # type: ignore[union-attr]

