"""Connections and transactions of the service's SQLite store.

The database is in WAL mode with a busy timeout, each thread has its own connection, and
every write that must be atomic runs inside ``Store.transaction()`` (``BEGIN
IMMEDIATE``: the write lock is taken at the start, so two processes serialize instead of
failing on a stale snapshot). The schema (``schema.py``) is made when the store opens.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from simulator.common.writer_lock import WriterLock
from simulator.service.adapters.encryption import DataCipher
from simulator.service.adapters.storage.schema import AUDIT_HEAD, TABLES, create_schema
from simulator.service.domain.stores import Conflict

BUSY_TIMEOUT_SECONDS = 10.0
log = logging.getLogger("simulator.service.repositories")


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

    def _count(self, sql: str, *params: Any) -> int:
        """The one number a ``SELECT COUNT(*)`` (or ``SUM``) query answers."""
        row = self._one(sql, *params)
        return int(row[0]) if row and row[0] is not None else 0

    # -- the whole store: counts for tests and benchmarks, test mode's reset, compaction --
    def count(self, table: str, where: str = "", *params: Any) -> int:
        """Row counts for tests, benchmarks and the command line (``table`` and ``where``
        are ours, never user input; pages use the named counts of each aggregate)."""
        if table not in TABLES:
            raise ValueError(f"unknown table {table}")
        return self._count(f"SELECT COUNT(*) FROM {table} {where}", *params)

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


def json_text(value: Any) -> str | None:
    """A value as the store's JSON columns hold it (keys sorted)."""
    return None if value is None else json.dumps(value, sort_keys=True, default=str)


def normalized_email(email: str) -> str:
    """What the blind index of an address is made from: addresses differ by case only
    in ways no mail server honours."""
    return email.strip().lower()

