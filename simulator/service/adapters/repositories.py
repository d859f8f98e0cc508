"""The payment service's SQLite store.

The schema is made with sqlite-utils; the hot paths use raw ``sqlite3``. The database is
in WAL mode with a busy timeout, each thread has its own connection, and every write
that must be atomic runs inside ``Repository.transaction()`` (``BEGIN IMMEDIATE``: the
write lock is taken at the start, so two processes serialize instead of failing on a
stale snapshot). The constraints are the last line against doubling anything:

- one live (``open``/``processing``) payment session per win (a partial UNIQUE index),
- one transaction per PaymentIntent, one order per win, one job per (kind, ref),
- one queued mail per dedupe key, one inbox row per Stripe event id.

At rest (``adapters/encryption.py``), buyer contact details, webhook payloads, mail, alert
and security-event texts and the service's own settings are encrypted; e-mail addresses
are found by a blind index. Free text is stripped of card numbers before it is stored
(``domain/card_numbers.py``). Every audit entry is linked to the one before it by a
SHA-256 hash, computed inside the write transaction (``domain/audit.py``).
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any

import sqlite_utils

from simulator.common.writer_lock import WriterLock
from simulator.service.adapters.encryption import DataCipher
from simulator.service.domain.alerts import Alert
from simulator.service.domain.auction import AuctionWin
from simulator.service.domain.audit import (
    GENESIS,
    AuditEntry,
    ChainBreak,
    ChainedEntry,
    first_break,
    link_hash,
)
from simulator.service.domain.card_numbers import (
    mask_card_numbers,
    mask_card_numbers_in_json,
    mask_in,
)
from simulator.service.domain.credentials import is_token_digest, token_digest
from simulator.service.domain.notification import Mail
from simulator.service.domain.order import Order
from simulator.service.domain.payment_session import PaymentSession
from simulator.service.domain.transaction import Transaction
from simulator.service.domain.user import User

BUSY_TIMEOUT_SECONDS = 10.0
log = logging.getLogger("simulator.service.repositories")


class Conflict(Exception):
    """A UNIQUE constraint refused a second copy of something that must exist once."""


@dataclass(frozen=True)
class Job:
    id: int
    kind: str
    ref: str
    due_at: float
    attempts: int
    claimed_by: str | None = None


@dataclass(frozen=True)
class QueuedMail:
    id: int
    to: str
    subject: str
    text: str
    receipt_order_id: str | None
    status: str  # pending (queued, or waiting to be tried again), sent, failed (for good)
    attempts: int
    last_error: str | None = None
    created_at: int | None = None
    sent_at: int | None = None

    @property
    def delivery(self) -> str:
        """What an admin reads: queued, retrying (a failed try, another coming), sent or
        failed."""
        if self.status == "pending":
            return "retrying" if self.attempts else "queued"
        return self.status


@dataclass(frozen=True)
class InboxEvent:
    event_id: str
    type: str
    payload: str
    received_at: int
    status: str
    attempts: int
    error: str | None
    processed_at: int | None
    claimed_by: str | None = None
    claimed_until: float | None = None


# ``received`` is what older versions wrote before processing; ``processing`` is claimed.
UNFINISHED = ("received", "processing")


@dataclass(frozen=True)
class InboxClaim:
    """A worker's claim on an inbox event: who (``host:pid``) and until when (wall
    clock, shared by every process on the machine)."""

    owner: str
    lease_until: float
    lease_now: float
    owner_alive: Callable[[str], bool]

    def holds(self, owner: str | None, until: float | None) -> bool:
        """Whether an existing claim still stands: unexpired, and its process alive."""
        return bool(owner) and (until or 0) > self.lease_now and self.owner_alive(str(owner))


# -- schema ------------------------------------------------------------------------------
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
# goes through this module); ``stripe-sim keys rotate`` re-encrypts every column above.
ENCRYPTED_AT_START = ("users", "webhook_inbox", "mail_outbox", "service_state")
# Blind indexes: the column looked up by equality, and the column holding its HMAC.
BLIND_INDEXES: dict[str, tuple[str, str]] = {
    "users": ("email", "email_index"),
    "mail_outbox": ("to_addr", "to_index"),
}
AUDIT_HEAD = "audit_head"
MAIL_COLUMNS = ("id, to_addr AS 'to', subject, body AS text, receipt_order_id, status, attempts,"
                " last_error, created_at, sent_at")
# Set once the stored data is in this version's shape (encrypted, audit chained).
DATA_AT_REST, DATA_AT_REST_VERSION = "data_at_rest", 1
USER_FIELDS = tuple(f.name for f in fields(User))
INBOX_FIELDS = tuple(f.name for f in fields(InboxEvent))
# The serialization point for concurrent checkouts of one win: a second live session
# cannot be inserted, whatever process tries.
LIVE_SESSION_INDEX = (
    "CREATE UNIQUE INDEX IF NOT EXISTS one_live_session_per_win ON payment_sessions(win_id)"
    " WHERE status IN ('open', 'processing')"
)


def create_schema(conn: sqlite3.Connection) -> None:
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


def _add_missing_columns(db: sqlite_utils.Database, name: str,
                         table_columns: dict[str, Any]) -> None:
    """A database made by an older version gets the columns added since (nullable)."""
    existing = set(db[name].columns_dict)
    for column, kind in table_columns.items():
        if column not in existing:
            db[name].add_column(column, kind)  # type: ignore[union-attr]


class Store:
    """Connections and transactions: one connection per thread, WAL, BEGIN IMMEDIATE."""

    def __init__(self, path: str | Path, *, busy_timeout: float = BUSY_TIMEOUT_SECONDS,
                 cipher: DataCipher | None = None) -> None:
        """``cipher`` holds the data keys; by default the key file beside the database
        (``<db>.key``, made on first use)."""
        self.path = str(path)
        self.busy_timeout = busy_timeout
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self.cipher = cipher or DataCipher.for_database(self.path)
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._writer = WriterLock(None if self.path == ":memory:" else f"{self.path}.lock")
        with self.transaction() as conn:
            create_schema(conn)

    def connection(self) -> sqlite3.Connection:
        """This thread's connection. A process forked after the store was opened (a
        pre-loading WSGI server) gets its own, never its parent's."""
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None or getattr(self._local, "pid", None) != os.getpid():
            conn = self._connect()
            self._local.conn, self._local.pid = conn, os.getpid()
            with self._lock:
                self._all.append(conn)
        return conn

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=self.busy_timeout, isolation_level=None,
                               check_same_thread=False)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute(f"PRAGMA busy_timeout={int(self.busy_timeout * 1000)}")
        return conn

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One atomic unit of work; nested uses join the outer transaction. Writers
        queue in a ``WriterLock`` first (given up after the busy timeout, as SQLite
        would), so the write lock passes to the next one as soon as it is free."""
        conn = self.connection()
        if conn.in_transaction:
            yield conn
            return
        if not self._writer.acquire(self.busy_timeout):
            raise sqlite3.OperationalError("database is locked")
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
        finally:
            self._writer.release()

    def close(self) -> None:
        with self._lock:
            for conn in self._all:
                conn.close()
            self._all.clear()
        self._local = threading.local()

    # -- small SQL helpers ---------------------------------------------------------------
    def _insert(self, table: str, values: Mapping[str, Any]) -> int:
        columns = ", ".join(values)
        marks = ", ".join(f":{key}" for key in values)
        try:
            cursor = self.connection().execute(
                f"INSERT INTO {table} ({columns}) VALUES ({marks})", dict(values))
        except sqlite3.IntegrityError as error:
            raise Conflict(f"{table}: {error}") from error
        return int(cursor.lastrowid or 0)

    def _update(self, table: str, key: str, values: Mapping[str, Any]) -> None:
        assignments = ", ".join(f"{column} = :{column}" for column in values if column != key)
        self.connection().execute(
            f"UPDATE {table} SET {assignments} WHERE {key} = :{key}", dict(values))

    def _one(self, sql: str, *params: Any) -> sqlite3.Row | None:
        row: sqlite3.Row | None = self.connection().execute(sql, params).fetchone()
        return row

    def _all_rows(self, sql: str, *params: Any) -> list[sqlite3.Row]:
        return list(self.connection().execute(sql, params).fetchall())


def _json(value: Any) -> str | None:
    return None if value is None else json.dumps(value, sort_keys=True, default=str)


def _session_row(session: PaymentSession) -> dict[str, Any]:
    """Stripe's decline message can quote what the buyer typed."""
    reason = session.failure_reason
    return asdict(replace(session, failure_reason=mask_card_numbers(reason) if reason
                          else reason))


def _session(row: sqlite3.Row | None) -> PaymentSession | None:
    return PaymentSession(**dict(row)) if row is not None else None


def _transaction(row: sqlite3.Row | None) -> Transaction | None:
    if row is None:
        return None
    data = dict(row)
    data["review_flags"] = tuple(json.loads(data["review_flags"] or "[]"))
    return Transaction(**data)


def _transaction_row(txn: Transaction) -> dict[str, Any]:
    data = asdict(txn)
    data["review_flags"] = json.dumps(list(txn.review_flags))
    return data


def _order(row: sqlite3.Row | None) -> Order | None:
    return Order(**dict(row)) if row is not None else None


def _audit(row: sqlite3.Row) -> AuditEntry:
    return AuditEntry(
        actor=row["actor"], action=row["action"], subject_type=row["subject_type"],
        subject_id=row["subject_id"], at=row["at"],
        before=json.loads(row["before"]) if row["before"] else None,
        after=json.loads(row["after"]) if row["after"] else None)


def _masked(column: str, value: str | None) -> str | None:
    """An older version's text made what this one stores: card numbers masked (not in
    addresses, which are looked up as they are)."""
    if value is None or column in ("email", "to_addr"):
        return value
    if column in ("payload", "value"):
        return mask_card_numbers_in_json(value)
    return mask_card_numbers(value)


def normalized_email(email: str) -> str:
    """What the blind index of an address is made from: addresses differ by case only
    in ways no mail server honours."""
    return email.strip().lower()


class Repository(Store):
    """The service's records, by domain name. Methods join the caller's transaction."""

    def __init__(self, path: str | Path, *, busy_timeout: float = BUSY_TIMEOUT_SECONDS,
                 cipher: DataCipher | None = None) -> None:
        super().__init__(path, busy_timeout=busy_timeout, cipher=cipher)
        self._upgrade_stored_data()
        self._hash_plain_api_tokens()

    # -- users and wins ------------------------------------------------------------------
    def add_user(self, user: User) -> None:
        values = asdict(user)
        values["name"] = self.cipher.encrypt(mask_card_numbers(user.name))
        values["email"] = self.cipher.encrypt(user.email)
        values["email_index"] = self.cipher.blind_index(normalized_email(user.email))
        values["api_token"] = token_digest(user.api_token) if user.api_token else None
        self._insert("users", values)

    def _user(self, row: sqlite3.Row | None) -> User | None:
        if row is None:
            return None
        data = {name: row[name] for name in USER_FIELDS if name in row.keys()}  # noqa: SIM118
        data["name"] = self.cipher.decrypt(data["name"])
        data["email"] = self.cipher.decrypt(data["email"])
        data["api_token"] = ""  # only its SHA-256 is stored
        return User(**data)

    def get_user(self, user_id: str) -> User | None:
        return self._user(self._one("SELECT * FROM users WHERE id = ?", user_id))

    def get_user_by_token(self, api_token: str) -> User | None:
        """By the token's SHA-256: the token itself is never stored."""
        return self._user(self._one("SELECT * FROM users WHERE api_token = ?",
                                    token_digest(api_token)))

    def get_user_by_email(self, email: str) -> User | None:
        """Through the blind index (the address itself is stored encrypted)."""
        indexes = self.cipher.blind_indexes(normalized_email(email))
        marks = ", ".join("?" for _ in indexes)
        return self._user(self._one(
            f"SELECT * FROM users WHERE email_index IN ({marks}) ORDER BY id LIMIT 1", *indexes))

    def list_users(self, role: str | None = None) -> list[User]:
        """Buyers before admins, by name (sorted here: names are stored encrypted)."""
        if role is None:
            rows = self._all_rows("SELECT * FROM users")
        else:
            rows = self._all_rows("SELECT * FROM users WHERE role = ?", role)
        users = [user for row in rows if (user := self._user(row)) is not None]
        users.sort(key=lambda user: user.name)
        users.sort(key=lambda user: user.role, reverse=True)
        return users

    def add_win(self, win: AuctionWin) -> None:
        self._insert("wins", asdict(replace(win, title=mask_card_numbers(win.title))))

    def get_win(self, win_id: str) -> AuctionWin | None:
        row = self._one("SELECT * FROM wins WHERE id = ?", win_id)
        return AuctionWin(**dict(row)) if row else None

    def wins_for_buyer(self, buyer_id: str) -> list[AuctionWin]:
        rows = self._all_rows(
            "SELECT * FROM wins WHERE buyer_id = ? ORDER BY ended_at DESC", buyer_id)
        return [AuctionWin(**dict(row)) for row in rows]

    def list_wins(self) -> list[AuctionWin]:
        rows = self._all_rows("SELECT * FROM wins ORDER BY ended_at DESC")
        return [AuctionWin(**dict(row)) for row in rows]

    # -- payment sessions ----------------------------------------------------------------
    def add_payment_session(self, session: PaymentSession) -> None:
        """Raises ``Conflict`` when the win already has a live session (or the attempt
        number is taken): the caller re-reads and returns that one."""
        self._insert("payment_sessions", _session_row(session))

    def save_payment_session(self, session: PaymentSession) -> None:
        try:
            self._update("payment_sessions", "id", _session_row(session))
        except sqlite3.IntegrityError as error:
            raise Conflict(f"payment_sessions: {error}") from error

    def get_payment_session(self, session_id: str) -> PaymentSession | None:
        return _session(self._one("SELECT * FROM payment_sessions WHERE id = ?", session_id))

    def session_by_checkout_id(self, checkout_session_id: str) -> PaymentSession | None:
        return _session(self._one(
            "SELECT * FROM payment_sessions WHERE checkout_session_id = ?", checkout_session_id))

    def session_by_payment_intent(self, payment_intent_id: str) -> PaymentSession | None:
        return _session(self._one(
            "SELECT * FROM payment_sessions WHERE payment_intent_id = ?"
            " ORDER BY attempt DESC LIMIT 1", payment_intent_id))

    def sessions_for_win(self, win_id: str) -> list[PaymentSession]:
        rows = self._all_rows(
            "SELECT * FROM payment_sessions WHERE win_id = ? ORDER BY attempt", win_id)
        return [PaymentSession(**dict(row)) for row in rows]

    def sessions_at_stripe(self, statuses: tuple[str, ...],
                           limit: int = 1000) -> list[PaymentSession]:
        """Sessions with a Checkout Session in one of ``statuses``, least recently
        updated first (what reconciliation asks Stripe about)."""
        marks = ", ".join("?" for _ in statuses)
        rows = self._all_rows(
            f"SELECT * FROM payment_sessions WHERE status IN ({marks})"
            " AND checkout_session_id IS NOT NULL ORDER BY updated_at, id LIMIT ?",
            *statuses, limit)
        return [PaymentSession(**dict(row)) for row in rows]

    def list_payment_sessions(self, status: str | None = None,
                              limit: int = 200) -> list[PaymentSession]:
        where, params = ("WHERE status = ?", [status]) if status else ("", [])
        rows = self._all_rows(
            f"SELECT * FROM payment_sessions {where} ORDER BY created_at DESC, id LIMIT ?",
            *params, limit)
        return [PaymentSession(**dict(row)) for row in rows]

    # -- transactions and orders ---------------------------------------------------------
    def add_transaction(self, txn: Transaction) -> None:
        """Raises ``Conflict`` for a second transaction of the same PaymentIntent."""
        self._insert("transactions", _transaction_row(txn))

    def save_transaction(self, txn: Transaction) -> None:
        self._update("transactions", "id", _transaction_row(txn))

    def get_transaction(self, transaction_id: str) -> Transaction | None:
        return _transaction(self._one("SELECT * FROM transactions WHERE id = ?", transaction_id))

    def transaction_by_payment_intent(self, payment_intent_id: str) -> Transaction | None:
        return _transaction(self._one(
            "SELECT * FROM transactions WHERE payment_intent_id = ?", payment_intent_id))

    def transactions_for_win(self, win_id: str) -> list[Transaction]:
        rows = self._all_rows(
            "SELECT * FROM transactions WHERE win_id = ? ORDER BY created_at, id", win_id)
        return [txn for row in rows if (txn := _transaction(row)) is not None]

    def list_transactions(self, limit: int = 200) -> list[Transaction]:
        rows = self._all_rows(
            "SELECT * FROM transactions ORDER BY created_at DESC, id LIMIT ?", limit)
        return [txn for row in rows if (txn := _transaction(row)) is not None]

    def review_queue(self) -> list[Transaction]:
        """Payments a fraud rule flagged, waiting for a human."""
        rows = self._all_rows(
            "SELECT * FROM transactions WHERE review_status = 'pending' ORDER BY created_at")
        return [txn for row in rows if (txn := _transaction(row)) is not None]

    def add_order(self, order: Order) -> None:
        """Raises ``Conflict`` for a second order of the same win."""
        self._insert("orders", asdict(order))

    def save_order(self, order: Order) -> None:
        self._update("orders", "id", asdict(order))

    def get_order(self, order_id: str) -> Order | None:
        return _order(self._one("SELECT * FROM orders WHERE id = ?", order_id))

    def order_for_win(self, win_id: str) -> Order | None:
        return _order(self._one("SELECT * FROM orders WHERE win_id = ?", win_id))

    def list_orders(self, status: str | None = None, limit: int = 200) -> list[Order]:
        where, params = ("WHERE status = ?", [status]) if status else ("", [])
        rows = self._all_rows(
            f"SELECT * FROM orders {where} ORDER BY created_at DESC, id LIMIT ?", *params, limit)
        return [Order(**dict(row)) for row in rows]

    def orders_with_receipts(self) -> list[Order]:
        rows = self._all_rows("SELECT * FROM orders WHERE receipt_path IS NOT NULL ORDER BY id")
        return [Order(**dict(row)) for row in rows]

    def count(self, table: str, where: str = "", *params: Any) -> int:
        """Row counts for the admin pages and tests (``table`` is ours, never user input)."""
        if table not in TABLES:
            raise ValueError(f"unknown table {table}")
        row = self._one(f"SELECT COUNT(*) FROM {table} {where}", *params)
        return int(row[0]) if row else 0

    # -- audit, alerts, security events --------------------------------------------------
    def add_audit(self, entry: AuditEntry) -> None:
        """Append ``entry`` to the hash chain. The link is made inside the write
        transaction (``BEGIN IMMEDIATE`` holds the database's write lock), so writers in
        several processes queue up and never fork the chain. It follows the recorded head,
        not the last row: an entry deleted from the end still breaks the chain."""
        # Field by field, not ``asdict``: that would deep-copy both snapshots only for
        # them to be replaced by their JSON on the next lines.
        values = {field.name: getattr(entry, field.name) for field in fields(entry)}
        values["before"] = _json(mask_in(entry.before))
        values["after"] = _json(mask_in(entry.after))
        stored = replace(entry, before=json.loads(values["before"] or "null"),
                         after=json.loads(values["after"] or "null"))
        with self.transaction():
            previous = self._audit_previous_hash()
            values["previous_hash"], values["hash"] = previous, link_hash(previous, stored)
            entry_id = self._insert("audit_log", values)
            self._set_audit_head(entry_id, values["hash"], entry.at)

    def _audit_previous_hash(self) -> str:
        head = self.audit_head()
        if head is not None:
            return head[1]
        row = self._one("SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1")
        return str(row[0]) if row and row[0] else GENESIS

    def _set_audit_head(self, entry_id: int, entry_hash: str, at: int) -> None:
        self.set_state(AUDIT_HEAD, {"id": entry_id, "hash": entry_hash}, at)

    def audit_head(self) -> tuple[int, str] | None:
        """The id and hash of the newest entry, as recorded when it was written."""
        head = self.get_state(AUDIT_HEAD)
        return (int(head["id"]), str(head["hash"])) if head else None

    def audit_chain(self) -> Iterator[ChainedEntry]:
        """Every entry in order, with its hashes (for ``stripe-sim audit verify``)."""
        cursor = self.connection().execute("SELECT * FROM audit_log ORDER BY id")
        for row in cursor:
            yield ChainedEntry(row["id"], _audit(row), row["previous_hash"], row["hash"])

    def verify_audit_chain(self) -> ChainBreak | None:
        """The first entry that was edited, deleted or added outside the chain, read
        from one snapshot (a read transaction: the service's writers carry on)."""
        conn = self.connection()
        if conn.in_transaction:
            return first_break(self.audit_chain(), self.audit_head())
        conn.execute("BEGIN")
        try:
            return first_break(self.audit_chain(), self.audit_head())
        finally:
            conn.execute("COMMIT")

    def audit_for(self, subject_type: str, subject_id: str) -> list[AuditEntry]:
        rows = self._all_rows(
            "SELECT * FROM audit_log WHERE subject_type = ? AND subject_id = ? ORDER BY id",
            subject_type, subject_id)
        return [_audit(row) for row in rows]

    def list_audit(self, limit: int = 200) -> list[AuditEntry]:
        rows = self._all_rows("SELECT * FROM audit_log ORDER BY id DESC LIMIT ?", limit)
        return [_audit(row) for row in rows]

    def add_alert(self, alert: Alert, *, unless_since: int | None = None) -> bool:
        """Record ``alert``; with ``unless_since``, not when one of the same kind and
        subject was recorded since then (a burst makes one alert, not hundreds)."""
        with self.transaction():
            if unless_since is not None and self._one(
                    "SELECT 1 FROM alerts WHERE kind = ? AND IFNULL(subject_id, '') = ?"
                    " AND at >= ?", alert.kind, alert.subject_id or "", unless_since):
                return False
            self._insert("alerts", {**asdict(alert), "message": self.cipher.encrypt(
                mask_card_numbers(alert.message))})
            return True

    def list_alerts(self, limit: int = 200) -> list[Alert]:
        rows = self._all_rows(
            "SELECT kind, severity, message, at, subject_id FROM alerts ORDER BY id DESC"
            " LIMIT ?", limit)
        return [Alert(**{**dict(row), "message": self.cipher.decrypt(row["message"])})
                for row in rows]

    def add_security_event(self, kind: str, detail: str, remote_addr: str, at: int) -> None:
        self._insert("security_events", {
            "kind": kind, "detail": self.cipher.encrypt(mask_card_numbers(detail)),
            "remote_addr": remote_addr, "at": at})

    def count_security_events(self, since: int, kind_prefix: str = "") -> int:
        row = self._one("SELECT COALESCE(SUM(COALESCE(count, 1)), 0) FROM security_events"
                        " WHERE at >= ? AND kind LIKE ?", since, f"{kind_prefix}%")
        return int(row[0]) if row else 0

    def list_security_events(self, limit: int = 200) -> list[dict[str, Any]]:
        rows = self._all_rows("SELECT * FROM security_events ORDER BY id DESC LIMIT ?", limit)
        return [{**dict(row), "detail": self.cipher.decrypt(row["detail"])} for row in rows]

    # -- webhook inbox -------------------------------------------------------------------
    def claim_webhook_event(self, event_id: str, event_type: str, payload: str, at: int,
                            claim: InboxClaim) -> str:
        """Store a delivery and claim it for processing. Dedupe is on *processed*:
        ``"processed"`` when an earlier delivery's work committed, ``"in_progress"`` when
        a live worker holds it, else ``"claimed"`` (new, failed, or left by a worker that
        died: it is processed again; handlers re-read state and exit early)."""
        with self.transaction():
            row = self._one("SELECT status, claimed_by, claimed_until FROM webhook_inbox"
                            " WHERE event_id = ?", event_id)
            if row is None:
                self._insert("webhook_inbox", {
                    "event_id": event_id, "type": event_type,
                    "payload": self.cipher.encrypt(mask_card_numbers_in_json(payload)),
                    "received_at": at, "status": "processing", "claimed_by": claim.owner,
                    "claimed_until": claim.lease_until})
                return "claimed"
            if row["status"] == "processed":
                return "processed"
            if row["status"] in UNFINISHED and claim.holds(row["claimed_by"],
                                                           row["claimed_until"]):
                return "in_progress"
            self._take_over(event_id, at, claim)
            return "claimed"

    def _take_over(self, event_id: str, at: int, claim: InboxClaim) -> None:
        self.connection().execute(
            "UPDATE webhook_inbox SET status = 'processing', received_at = ?,"
            " attempts = attempts + 1, claimed_by = ?, claimed_until = ? WHERE event_id = ?",
            (at, claim.owner, claim.lease_until, event_id))

    def claim_unfinished_webhook_event(self, at: int, claim: InboxClaim) -> InboxEvent | None:
        """The oldest event whose processing was cut off (its worker died or its lease
        ran out), claimed for ``claim.owner``; None when there is none."""
        with self.transaction():
            rows = self._all_rows(
                "SELECT event_id, claimed_by, claimed_until FROM webhook_inbox"
                f" WHERE status IN {UNFINISHED} ORDER BY received_at, event_id")
            for row in rows:
                if not claim.holds(row["claimed_by"], row["claimed_until"]):
                    self._take_over(row["event_id"], at, claim)
                    return self.get_webhook_event(row["event_id"])
        return None

    def release_webhook_claims(self) -> int:
        """At start-up, with the instance lock held: every claim belongs to a process
        that is gone, so the events it held can be taken at once."""
        cursor = self.connection().execute(
            f"UPDATE webhook_inbox SET claimed_until = 0 WHERE status IN {UNFINISHED}")
        return cursor.rowcount

    def mark_webhook_processed(self, event_id: str, at: int) -> None:
        self.connection().execute(
            "UPDATE webhook_inbox SET status = 'processed', processed_at = ?, error = NULL,"
            " claimed_until = NULL WHERE event_id = ?", (at, event_id))

    def mark_webhook_failed(self, event_id: str, error: str, at: int) -> None:
        self.connection().execute(
            "UPDATE webhook_inbox SET status = 'failed', error = ?, processed_at = ?,"
            " claimed_until = NULL WHERE event_id = ?",
            (self.cipher.encrypt(mask_card_numbers(error[:2000])), at, event_id))

    def get_webhook_event(self, event_id: str) -> InboxEvent | None:
        row = self._one("SELECT * FROM webhook_inbox WHERE event_id = ?", event_id)
        return self._inbox_event(row) if row else None

    def _inbox_event(self, row: sqlite3.Row) -> InboxEvent:
        """Decrypted; masked again on the way out, for rows stored before masking."""
        data = {name: row[name] for name in INBOX_FIELDS}
        data["payload"] = mask_card_numbers_in_json(self.cipher.decrypt(row["payload"]) or "")
        error = self.cipher.decrypt(row["error"])
        data["error"] = mask_card_numbers(error) if error else error
        return InboxEvent(**data)

    def list_webhook_events(self, status: str | None = None,
                            limit: int = 200) -> list[InboxEvent]:
        where, params = ("WHERE status = ?", [status]) if status else ("", [])
        rows = self._all_rows(
            f"SELECT * FROM webhook_inbox {where} ORDER BY received_at DESC LIMIT ?",
            *params, limit)
        return [self._inbox_event(row) for row in rows]

    # -- jobs ----------------------------------------------------------------------------
    def schedule_job(self, kind: str, ref: str, due_at: float, at: int) -> int | None:
        """The job's id, or None when a job of that kind and ref already exists."""
        cursor = self.connection().execute(
            "INSERT INTO jobs (kind, ref, due_at, created_at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (kind, ref) DO NOTHING", (kind, ref, due_at, at))
        return int(cursor.lastrowid or 0) if cursor.rowcount else None

    def claim_due_job(self, now: float, lease_until: float, owner: str, lease_now: float,
                      job_id: int | None = None) -> Job | None:
        """Take the earliest due job nobody holds a live lease on. ``now`` is the
        service clock (what ``due_at`` means); leases compare against the wall clock
        (``lease_now``), which every process shares even when a test moved the clock."""
        only = "AND id = :job_id" if job_id is not None else ""
        with self.transaction() as conn:
            row = conn.execute(
                "UPDATE jobs SET claimed_until = :lease_until, claimed_by = :owner,"
                " attempts = attempts + 1 WHERE id = (SELECT id FROM jobs WHERE done = 0"
                f" AND due_at <= :now {only} AND IFNULL(claimed_until, 0) <= :lease_now"
                " ORDER BY due_at, id LIMIT 1)"
                " RETURNING id, kind, ref, due_at, attempts, claimed_by",
                {"lease_until": lease_until, "owner": owner, "now": now,
                 "lease_now": lease_now, "job_id": job_id}).fetchone()
        return Job(**dict(row)) if row else None

    def finish_job(self, job_id: int, owner: str) -> None:
        self.connection().execute(
            "UPDATE jobs SET done = 1, claimed_until = NULL WHERE id = ? AND claimed_by = ?",
            (job_id, owner))

    def retry_job(self, job_id: int, owner: str, due_at: float, error: str,
                  give_up: bool) -> None:
        """Put a failed job back at ``due_at`` (or mark it dead: ``done = 2``)."""
        self.connection().execute(
            "UPDATE jobs SET due_at = ?, claimed_until = NULL, last_error = ?, done = ?"
            " WHERE id = ? AND claimed_by = ?",
            (due_at, mask_card_numbers(error[:2000]), 2 if give_up else 0, job_id, owner))

    def reschedule_job(self, kind: str, ref: str, due_at: float) -> None:
        self.connection().execute(
            "UPDATE jobs SET due_at = ?, done = 0 WHERE kind = ? AND ref = ?", (due_at, kind, ref))

    def cancel_jobs(self, kind: str, ref_prefix: str) -> int:
        """Mark pending jobs done, e.g. every reminder of a win once it is paid."""
        cursor = self.connection().execute(
            "UPDATE jobs SET done = 1 WHERE kind = ? AND ref LIKE ? AND done = 0",
            (kind, f"{ref_prefix}%"))
        return cursor.rowcount

    def pending_jobs(self, kind: str | None = None) -> list[Job]:
        where = "AND kind = ?" if kind else ""
        rows = self._all_rows(
            f"SELECT id, kind, ref, due_at, attempts, claimed_by FROM jobs WHERE done = 0"
            f" {where} ORDER BY due_at, id", *([kind] if kind else []))
        return [Job(**dict(row)) for row in rows]

    def replace_job(self, kind: str, ref: str, due_at: float, at: int) -> None:
        """Add the job, or set an existing one (even done or canceled) due again."""
        self.connection().execute(
            "INSERT INTO jobs (kind, ref, due_at, created_at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (kind, ref) DO UPDATE SET due_at = excluded.due_at, done = 0,"
            " attempts = 0, claimed_until = NULL, last_error = NULL", (kind, ref, due_at, at))

    def release_job_claims(self, owner: str | None = None) -> int:
        """Leases of processes that are gone: every one (at start-up, with the instance
        lock held), or those of one owner."""
        only = "AND claimed_by = ?" if owner is not None else ""
        cursor = self.connection().execute(
            "UPDATE jobs SET claimed_until = NULL WHERE done = 0 AND claimed_until IS NOT NULL"
            f" {only}", (owner,) if owner is not None else ())
        return cursor.rowcount

    def job_claim_owners(self, lease_now: float) -> list[str]:
        """Who holds a live lease on a pending job."""
        rows = self._all_rows("SELECT DISTINCT claimed_by FROM jobs WHERE done = 0"
                              " AND claimed_until > ? AND claimed_by IS NOT NULL", lease_now)
        return [str(row[0]) for row in rows]

    def schedule_job_now(self, kind: str, ref: str, due_at: float, at: int) -> None:
        """Add the job, or bring an existing one (done or not) forward to ``due_at``."""
        self.connection().execute(
            "INSERT INTO jobs (kind, ref, due_at, created_at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (kind, ref) DO UPDATE SET due_at = MIN(excluded.due_at,"
            " CASE WHEN done = 0 THEN due_at ELSE excluded.due_at END), done = 0",
            (kind, ref, due_at, at))

    def held_due_jobs(self, now: float, lease_now: float) -> int:
        """Jobs due by ``now`` that a worker holds a live lease on (running them now)."""
        row = self._one("SELECT COUNT(*) FROM jobs WHERE done = 0 AND due_at <= ?"
                        " AND claimed_until > ?", now, lease_now)
        return int(row[0]) if row else 0

    def next_job_due(self, *, except_kinds: tuple[str, ...] = ()) -> float | None:
        marks = ", ".join("?" for _ in except_kinds)
        where = f"AND kind NOT IN ({marks})" if except_kinds else ""
        row = self._one(f"SELECT MIN(due_at) FROM jobs WHERE done = 0 {where}", *except_kinds)
        return float(row[0]) if row and row[0] is not None else None

    def clear_business_data(self) -> int:
        """Every row but the users and the service's own settings (test mode's reset)."""
        kept = {"users", "service_state"}
        deleted = 0
        with self.transaction() as conn:
            for table in [*reversed(TABLES)]:  # children before the rows they refer to
                if table not in kept:
                    deleted += conn.execute(f"DELETE FROM {table}").rowcount
            conn.execute("DELETE FROM service_state WHERE key IN ('crash_points', ?)",
                         (AUDIT_HEAD,))
        return deleted

    # -- encryption at rest: upgrades and key rotation ------------------------------------
    def _upgrade_stored_data(self) -> None:
        """What a database made by an older version needs, once: its plain-text contact
        details and payloads encrypted, and its audit entries linked into a chain."""
        if self.get_state(DATA_AT_REST) == DATA_AT_REST_VERSION:
            return
        with self.transaction():
            sealed = sum(self._reencrypt(table, only_plain=True) for table in ENCRYPTED_AT_START)
            self._chain_legacy_audit()
            self.set_state(DATA_AT_REST, DATA_AT_REST_VERSION, 0)
        if sealed:
            log.warning("encrypted %d values an older version stored in plain text", sealed)
            self.purge_free_pages()

    def reencrypt_all(self) -> int:
        """Every encrypted column re-encrypted with the newest key, and the blind indexes
        made again with it, in one transaction (``stripe-sim keys rotate``)."""
        with self.transaction():
            return sum(self._reencrypt(table, only_plain=False) for table in ENCRYPTED)

    def _reencrypt(self, table: str, *, only_plain: bool) -> int:
        """Re-encrypt one table's encrypted columns (``only_plain``: just the values
        not encrypted yet); the number of rows changed."""
        columns, key = ENCRYPTED[table], TABLES[table][1]
        where = ""
        if only_plain:
            where = "WHERE " + " OR ".join(
                f"({column} IS NOT NULL AND substr({column}, 1, 5) != 'enc1:')"
                for column in columns)
        rows = self._all_rows(f"SELECT {key}, {', '.join(columns)} FROM {table} {where}")
        for row in rows:
            values = {key: row[key], **{c: self.cipher.encrypt(
                _masked(c, self.cipher.decrypt(row[c]))) for c in columns}}
            if table in BLIND_INDEXES:
                plain, index = BLIND_INDEXES[table]
                address = self.cipher.decrypt(row[plain])
                values[index] = self.cipher.blind_index(normalized_email(address or ""))
            self._update(table, key, values)
        return len(rows)

    def _chain_legacy_audit(self) -> None:
        """Entries written before the chain existed are linked once, at the first start
        of this version (only then: afterwards an entry without a hash is a break)."""
        if self.audit_head() is not None:
            return
        previous, last_id = GENESIS, None
        rows = self._all_rows("SELECT * FROM audit_log ORDER BY id")
        for row in rows:
            if row["hash"] is not None:
                return  # chained already; ``audit verify`` judges the rest
            entry_hash = link_hash(previous, _audit(row))
            self.connection().execute(
                "UPDATE audit_log SET previous_hash = ?, hash = ? WHERE id = ?",
                (previous, entry_hash, row["id"]))
            previous, last_id = entry_hash, row["id"]
        if last_id is not None:
            self._set_audit_head(last_id, previous, int(rows[-1]["at"] or 0))

    def purge_free_pages(self) -> None:
        """Rewrite the file so no old plain text or retired ciphertext lingers in free
        pages or the write-ahead log (a copy of the file shows only what is live)."""
        if self.path == ":memory:":
            return
        try:
            conn = self.connection()
            conn.execute("VACUUM")
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        except sqlite3.OperationalError as error:  # another process holds the database
            log.warning("could not compact %s: %s", self.path, error)

    # -- the service's own settings (its webhook endpoint) ---------------------------------
    def get_state(self, key: str) -> Any:
        row = self._one("SELECT value FROM service_state WHERE key = ?", key)
        return json.loads(self.cipher.decrypt(row[0]) or "null") if row else None

    def set_state(self, key: str, value: Any, at: int) -> None:
        self.connection().execute(
            "INSERT INTO service_state (key, value, updated_at) VALUES (?, ?, ?)"
            " ON CONFLICT (key) DO UPDATE SET value = excluded.value,"
            " updated_at = excluded.updated_at",
            (key, self.cipher.encrypt(json.dumps(value)), at))

    # -- mail outbox ---------------------------------------------------------------------
    def queue_mail(self, mail: Mail, at: int) -> int | None:
        """The outbox row's id, or None when that notice was queued before."""
        cursor = self.connection().execute(
            "INSERT INTO mail_outbox (dedupe_key, to_addr, to_index, subject, body,"
            " receipt_order_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (dedupe_key) DO NOTHING",
            (mail.dedupe_key, self.cipher.encrypt(mail.to),
             self.cipher.blind_index(normalized_email(mail.to)),
             mask_card_numbers(mail.subject), self.cipher.encrypt(mask_card_numbers(mail.text)),
             mail.receipt_order_id, at))
        return int(cursor.lastrowid or 0) if cursor.rowcount else None

    def _queued_mail(self, row: sqlite3.Row) -> QueuedMail:
        return QueuedMail(**{**dict(row), "to": self.cipher.decrypt(row["to"]),
                             "text": self.cipher.decrypt(row["text"]),
                             "last_error": self.cipher.decrypt(row["last_error"])})

    def get_mail(self, mail_id: int) -> QueuedMail | None:
        row = self._one(
            f"SELECT {MAIL_COLUMNS} FROM mail_outbox WHERE id = ?", mail_id)
        return self._queued_mail(row) if row else None

    def mail_to(self, address: str) -> list[dict[str, Any]]:
        """What was queued for ``address`` (through the blind index), oldest first."""
        indexes = self.cipher.blind_indexes(normalized_email(address))
        marks = ", ".join("?" for _ in indexes)
        rows = self._all_rows(
            "SELECT id, dedupe_key, subject, status, created_at, sent_at FROM mail_outbox"
            f" WHERE to_index IN ({marks}) ORDER BY id", *indexes)
        return [dict(row) for row in rows]

    def mark_mail_sent(self, mail_id: int, at: int) -> None:
        self.connection().execute(
            "UPDATE mail_outbox SET status = 'sent', sent_at = ?, attempts = attempts + 1,"
            " last_error = NULL WHERE id = ?", (at, mail_id))

    def mark_mail_failed(self, mail_id: int, error: str, permanent: bool) -> None:
        self.connection().execute(
            "UPDATE mail_outbox SET status = ?, attempts = attempts + 1, last_error = ?"
            " WHERE id = ?", ("failed" if permanent else "pending",
                              self.cipher.encrypt(mask_card_numbers(error[:2000])), mail_id))

    def list_mail(self, status: str | None = None, limit: int = 200) -> list[QueuedMail]:
        where, params = ("WHERE status = ?", [status]) if status else ("", [])
        rows = self._all_rows(
            f"SELECT {MAIL_COLUMNS} FROM mail_outbox {where} ORDER BY id DESC LIMIT ?",
            *params, limit)
        return [self._queued_mail(row) for row in rows]

    # -- sign-in credentials (``domain/credentials.py``) and counted security events -------
    def set_password_hash(self, user_id: str, password_hash: str) -> None:
        self.connection().execute("UPDATE users SET password_hash = ? WHERE id = ?",
                                  (password_hash, user_id))

    def password_hash_of(self, user_id: str) -> str | None:
        row = self._one("SELECT password_hash FROM users WHERE id = ?", user_id)
        return str(row[0]) if row and row[0] else None

    def set_api_token(self, user_id: str, api_token: str) -> None:
        """A new token for the user (the old one stops working); only its digest is kept."""
        self.connection().execute("UPDATE users SET api_token = ? WHERE id = ?",
                                  (token_digest(api_token), user_id))

    def _hash_plain_api_tokens(self) -> None:
        """Tokens an older version stored in plain text are replaced by their digest."""
        rows = self._all_rows("SELECT id, api_token FROM users WHERE api_token IS NOT NULL")
        plain = [(row["id"], row["api_token"]) for row in rows
                 if row["api_token"] and not is_token_digest(row["api_token"])]
        if plain:
            with self.transaction() as conn:
                conn.executemany("UPDATE users SET api_token = ? WHERE id = ?",
                                 [(token_digest(token), user_id) for user_id, token in plain])
            log.warning("hashed %d API tokens an older version stored in plain text",
                        len(plain))

    def count_security_event(self, kind: str, detail: str, remote_addr: str, at: int,
                             bucket_seconds: int) -> None:
        """One row per kind and time bucket, counting: what anyone can make happen at will
        (an unsigned webhook, a form without its CSRF token) cannot fill the disk."""
        bucket = at - at % bucket_seconds
        with self.transaction() as conn:
            updated = conn.execute(
                "UPDATE security_events SET count = COALESCE(count, 1) + 1, at = ?,"
                " remote_addr = ? WHERE kind = ? AND bucket = ?",
                (at, remote_addr, kind, bucket)).rowcount
            if not updated:
                self._insert("security_events", {
                    "kind": kind, "detail": self.cipher.encrypt(mask_card_numbers(detail)),
                    "remote_addr": remote_addr, "at": at, "count": 1, "bucket": bucket})

    # -- monitoring (``service/metrics.py``): aggregates read at scrape time, request
    # latencies counted into histogram buckets shared by every worker process ----------
    def observe_latency(self, metric: str, label: str, le: str, seconds: float) -> None:
        """One request's duration counted in its bucket (``le``: the bucket's bound)."""
        with self.transaction() as conn:
            conn.execute(
                "INSERT INTO latency_buckets (metric, label, le, count, total)"
                " VALUES (?, ?, ?, 1, ?) ON CONFLICT (metric, label, le) DO UPDATE SET"
                " count = count + 1, total = total + excluded.total",
                (metric, label, le, seconds))

    def latency_buckets(self) -> list[tuple[str, str, str, int, float]]:
        rows = self._all_rows("SELECT metric, label, le, count, total FROM latency_buckets")
        return [(row[0], row[1], row[2], int(row[3]), float(row[4])) for row in rows]

    def grouped_counts(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        """Rows of ``(label..., count)`` from one of ``service/metrics.py``'s fixed
        aggregate queries (never built from user input)."""
        return [tuple(row) for row in self._all_rows(sql, *params)]

    def get_alert(self, alert_id: int) -> Alert | None:
        row = self._one("SELECT kind, severity, message, at, subject_id FROM alerts"
                        " WHERE id = ?", alert_id)
        return Alert(**{**dict(row), "message": self.cipher.decrypt(row["message"])}) \
            if row else None

    def forward_alerts_as_jobs(self, job_kind: str | None) -> None:
        """Every alert recorded from now on gets a ``job_kind`` job (ref: the alert's id)
        in the same transaction, whichever process or code path recorded it (a trigger:
        the transactional outbox of ``adapters/alert_webhook.py``); None: no more."""
        if job_kind is not None and not job_kind.isidentifier():
            raise ValueError(f"not a job kind: {job_kind!r}")  # it is written into the SQL
        with self.transaction() as conn:
            conn.execute("DROP TRIGGER IF EXISTS alert_forwarding")
            if job_kind is not None:
                conn.execute(
                    "CREATE TRIGGER alert_forwarding AFTER INSERT ON alerts BEGIN"
                    " INSERT OR IGNORE INTO jobs (kind, ref, due_at, created_at, attempts, done)"
                    f" VALUES ('{job_kind}', CAST(NEW.id AS TEXT), NEW.at, NEW.at, 0, 0); END")
