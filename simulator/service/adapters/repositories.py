"""The payment service's SQLite store.

The schema is made with sqlite-utils; the hot paths use raw ``sqlite3``. The database is
in WAL mode with a busy timeout, each thread has its own connection, and every write
that must be atomic runs inside ``Repository.transaction()`` (``BEGIN IMMEDIATE``: the
write lock is taken at the start, so two processes serialize instead of failing on a
stale snapshot). The constraints are the last line against doubling anything:

- one live (``open``/``processing``) payment session per win (a partial UNIQUE index),
- one transaction per PaymentIntent, one order per win, one job per (kind, ref),
- one queued mail per dedupe key, one inbox row per Stripe event id.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import sqlite_utils

from simulator.service.domain.alerts import Alert
from simulator.service.domain.auction import AuctionWin
from simulator.service.domain.audit import AuditEntry
from simulator.service.domain.notification import Mail
from simulator.service.domain.order import Order
from simulator.service.domain.payment_session import PaymentSession
from simulator.service.domain.transaction import Transaction
from simulator.service.domain.user import User

BUSY_TIMEOUT_SECONDS = 10.0


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
    status: str
    attempts: int


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
               "country": str}, "id"),
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
                "receipt_path": str}, "id"),
    "webhook_inbox": ({"event_id": str, "type": str, "payload": str, "received_at": int,
                       "status": str, "attempts": int, "error": str,
                       "processed_at": int, "claimed_by": str, "claimed_until": float},
                      "event_id"),
    "service_state": ({"key": str, "value": str, "updated_at": int}, "key"),
    "audit_log": ({"id": int, "actor": str, "action": str, "subject_type": str,
                   "subject_id": str, "before": str, "after": str, "at": int}, "id"),
    "alerts": ({"id": int, "kind": str, "severity": str, "message": str,
                "subject_id": str, "at": int, "acknowledged": int}, "id"),
    "security_events": ({"id": int, "kind": str, "detail": str, "remote_addr": str,
                         "at": int}, "id"),
    "jobs": ({"id": int, "kind": str, "ref": str, "due_at": float, "claimed_until": float,
              "claimed_by": str, "attempts": int, "done": int, "last_error": str,
              "created_at": int}, "id"),
    "mail_outbox": ({"id": int, "dedupe_key": str, "to_addr": str, "subject": str,
                     "body": str, "receipt_order_id": str, "status": str, "attempts": int,
                     "last_error": str, "created_at": int, "sent_at": int}, "id"),
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
}
UNIQUE_INDEXES: dict[str, list[list[str]]] = {
    "users": [["api_token"]],
    "payment_sessions": [["win_id", "attempt"], ["idempotency_key"],
                         ["checkout_session_id"]],
    "transactions": [["payment_intent_id"]],
    "orders": [["win_id"]],
    "jobs": [["kind", "ref"]],
    "mail_outbox": [["dedupe_key"]],
}
INDEXES: dict[str, list[list[str]]] = {
    "wins": [["buyer_id"]],
    "payment_sessions": [["payment_intent_id"], ["status"]],
    "audit_log": [["subject_type", "subject_id"]],
    "security_events": [["kind", "at"]],
    "jobs": [["done", "due_at"]],
    "webhook_inbox": [["status"]],
    "alerts": [["kind", "at"]],
    "mail_outbox": [["status"]],
}
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

    def __init__(self, path: str | Path, *,
                 busy_timeout: float = BUSY_TIMEOUT_SECONDS) -> None:
        self.path = str(path)
        self.busy_timeout = busy_timeout
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
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
        """One atomic unit of work; nested uses join the outer transaction."""
        conn = self.connection()
        if conn.in_transaction:
            yield conn
            return
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

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
    data = dict(row)
    data.pop("id")
    data["before"] = json.loads(data["before"]) if data["before"] else None
    data["after"] = json.loads(data["after"]) if data["after"] else None
    return AuditEntry(**data)


class Repository(Store):
    """The service's records, by domain name. Methods join the caller's transaction."""

    # -- users and wins ------------------------------------------------------------------
    def add_user(self, user: User) -> None:
        self._insert("users", asdict(user))

    def get_user(self, user_id: str) -> User | None:
        row = self._one("SELECT * FROM users WHERE id = ?", user_id)
        return User(**dict(row)) if row else None

    def get_user_by_token(self, api_token: str) -> User | None:
        row = self._one("SELECT * FROM users WHERE api_token = ?", api_token)
        return User(**dict(row)) if row else None

    def list_users(self, role: str | None = None) -> list[User]:
        if role is None:
            rows = self._all_rows("SELECT * FROM users ORDER BY role DESC, name")
        else:
            rows = self._all_rows("SELECT * FROM users WHERE role = ? ORDER BY name", role)
        return [User(**dict(row)) for row in rows]

    def add_win(self, win: AuctionWin) -> None:
        self._insert("wins", asdict(win))

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
        self._insert("payment_sessions", asdict(session))

    def save_payment_session(self, session: PaymentSession) -> None:
        try:
            self._update("payment_sessions", "id", asdict(session))
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

    def count(self, table: str, where: str = "", *params: Any) -> int:
        """Row counts for the admin pages and tests (``table`` is ours, never user input)."""
        if table not in TABLES:
            raise ValueError(f"unknown table {table}")
        row = self._one(f"SELECT COUNT(*) FROM {table} {where}", *params)
        return int(row[0]) if row else 0

    # -- audit, alerts, security events --------------------------------------------------
    def add_audit(self, entry: AuditEntry) -> None:
        values = asdict(entry)
        values["before"], values["after"] = _json(entry.before), _json(entry.after)
        self._insert("audit_log", values)

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
            self._insert("alerts", asdict(alert))
            return True

    def list_alerts(self, limit: int = 200) -> list[Alert]:
        rows = self._all_rows(
            "SELECT kind, severity, message, at, subject_id FROM alerts ORDER BY id DESC"
            " LIMIT ?", limit)
        return [Alert(**dict(row)) for row in rows]

    def add_security_event(self, kind: str, detail: str, remote_addr: str, at: int) -> None:
        self._insert("security_events", {"kind": kind, "detail": detail,
                                         "remote_addr": remote_addr, "at": at})

    def count_security_events(self, since: int, kind_prefix: str = "") -> int:
        row = self._one("SELECT COUNT(*) FROM security_events WHERE at >= ? AND kind LIKE ?",
                        since, f"{kind_prefix}%")
        return int(row[0]) if row else 0

    def list_security_events(self, limit: int = 200) -> list[dict[str, Any]]:
        rows = self._all_rows("SELECT * FROM security_events ORDER BY id DESC LIMIT ?", limit)
        return [dict(row) for row in rows]

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
                    "event_id": event_id, "type": event_type, "payload": payload,
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
            " claimed_until = NULL WHERE event_id = ?", (error[:2000], at, event_id))

    def get_webhook_event(self, event_id: str) -> InboxEvent | None:
        row = self._one("SELECT * FROM webhook_inbox WHERE event_id = ?", event_id)
        return InboxEvent(**dict(row)) if row else None

    def list_webhook_events(self, status: str | None = None,
                            limit: int = 200) -> list[InboxEvent]:
        where, params = ("WHERE status = ?", [status]) if status else ("", [])
        rows = self._all_rows(
            f"SELECT * FROM webhook_inbox {where} ORDER BY received_at DESC LIMIT ?",
            *params, limit)
        return [InboxEvent(**dict(row)) for row in rows]

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
            (due_at, error[:2000], 2 if give_up else 0, job_id, owner))

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
            conn.execute("DELETE FROM service_state WHERE key = 'crash_points'")
        return deleted

    # -- the service's own settings (its webhook endpoint) ---------------------------------
    def get_state(self, key: str) -> Any:
        row = self._one("SELECT value FROM service_state WHERE key = ?", key)
        return json.loads(row[0]) if row else None

    def set_state(self, key: str, value: Any, at: int) -> None:
        self.connection().execute(
            "INSERT INTO service_state (key, value, updated_at) VALUES (?, ?, ?)"
            " ON CONFLICT (key) DO UPDATE SET value = excluded.value,"
            " updated_at = excluded.updated_at", (key, json.dumps(value), at))

    # -- mail outbox ---------------------------------------------------------------------
    def queue_mail(self, mail: Mail, at: int) -> int | None:
        """The outbox row's id, or None when that notice was queued before."""
        cursor = self.connection().execute(
            "INSERT INTO mail_outbox (dedupe_key, to_addr, subject, body, receipt_order_id,"
            " created_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (dedupe_key) DO NOTHING",
            (mail.dedupe_key, mail.to, mail.subject, mail.text, mail.receipt_order_id, at))
        return int(cursor.lastrowid or 0) if cursor.rowcount else None

    def get_mail(self, mail_id: int) -> QueuedMail | None:
        row = self._one(
            "SELECT id, to_addr AS 'to', subject, body AS text, receipt_order_id, status,"
            " attempts FROM mail_outbox WHERE id = ?", mail_id)
        return QueuedMail(**dict(row)) if row else None

    def mark_mail_sent(self, mail_id: int, at: int) -> None:
        self.connection().execute(
            "UPDATE mail_outbox SET status = 'sent', sent_at = ?, attempts = attempts + 1,"
            " last_error = NULL WHERE id = ?", (at, mail_id))

    def mark_mail_failed(self, mail_id: int, error: str, permanent: bool) -> None:
        self.connection().execute(
            "UPDATE mail_outbox SET status = ?, attempts = attempts + 1, last_error = ?"
            " WHERE id = ?", ("failed" if permanent else "pending", error[:2000], mail_id))

    def list_mail(self, status: str | None = None, limit: int = 200) -> list[QueuedMail]:
        where, params = ("WHERE status = ?", [status]) if status else ("", [])
        rows = self._all_rows(
            "SELECT id, to_addr AS 'to', subject, body AS text, receipt_order_id, status,"
            f" attempts FROM mail_outbox {where} ORDER BY id DESC LIMIT ?", *params, limit)
        return [QueuedMail(**dict(row)) for row in rows]
