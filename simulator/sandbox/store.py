"""SQLite persistence for the sandbox: objects, idempotency keys, jobs and the clock offset.

Every Stripe object is one row: its id, type, creation time, the few foreign keys lists
filter on, and its state as JSON. Writers take ``BEGIN IMMEDIATE`` so several threads and
processes serialise on SQLite's write lock instead of failing with "database is locked";
WAL mode lets readers carry on meanwhile.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from simulator.common.writer_lock import WriterLock
from simulator.sandbox import codec
from simulator.sandbox.schema import INDEX_COLUMNS, create_schema

BUSY_TIMEOUT_MS = 30_000
AUTOCHECKPOINT_PAGES = 20_000
# Bumped in a forked child, so that it opens connections of its own. Cheaper than asking
# for the process id (a system call) each time a connection is wanted.
_fork_generation = 0


def _forked() -> None:
    global _fork_generation
    _fork_generation += 1


os.register_at_fork(after_in_child=_forked)


@dataclass(frozen=True)
class Row:
    id: str
    type: str
    created: int
    data: dict[str, Any]


@dataclass(frozen=True)
class Page:
    rows: list[Row]
    has_more: bool


def connect(path: str, fsync: bool = False) -> sqlite3.Connection:
    """A connection in WAL mode. Without ``fsync`` (the default) SQLite never waits for
    the disk: a crashed or killed process loses nothing, only a power cut can drop the
    last transactions, and the fsync stalls that made the latency tail go away."""
    conn = sqlite3.connect(
        path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None, check_same_thread=False
    )
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute(f"PRAGMA synchronous={'NORMAL' if fsync else 'OFF'}")
    conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA temp_store=MEMORY")
    conn.execute("PRAGMA cache_size=-32000")
    # Checkpoints (copying the WAL into the database and fsyncing it) are left to the
    # ticker, so no request pays for one; this bound only matters when nothing ticks.
    conn.execute(f"PRAGMA wal_autocheckpoint={AUTOCHECKPOINT_PAGES}")
    return conn


class Store:
    """One SQLite file, one connection per thread (and per process after a fork)."""

    def __init__(self, path: str | os.PathLike[str], *, fsync: bool = False) -> None:
        self.path = str(path)
        self.fsync = fsync
        Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._writer = WriterLock(f"{self.path}.lock")
        with self.transaction() as conn:
            create_schema(conn)

    # -- connections and transactions ---------------------------------------------------
    @property
    def conn(self) -> sqlite3.Connection:
        local = self._local
        conn: sqlite3.Connection | None = getattr(local, "conn", None)
        if conn is None or local.generation != _fork_generation:
            conn = connect(self.path, self.fsync)
            local.conn = conn
            local.generation = _fork_generation
            self._end_meta()
        return conn

    def _begin_meta(self) -> None:
        """Meta values may be kept from here until the transaction ends (``get_meta``)."""
        self._local.meta_kept = True
        self._local.meta = None

    def _end_meta(self) -> None:
        self._local.meta_kept = False
        self._local.meta = None

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction; nested calls join the outer one."""
        conn = self.conn
        if conn.in_transaction:
            yield conn
            return
        with self._writer:
            conn.execute("BEGIN IMMEDIATE")
            self._begin_meta()
            try:
                yield conn
            except BaseException:
                self._end_meta()
                conn.execute("ROLLBACK")
                raise
            self._end_meta()
            conn.execute("COMMIT")

    @contextlib.contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        """A consistent read snapshot (a deferred transaction), joined if already in one."""
        conn = self.conn
        if conn.in_transaction:
            yield conn
            return
        conn.execute("BEGIN")
        self._begin_meta()
        try:
            yield conn
        finally:
            self._end_meta()
            conn.execute("COMMIT")

    def checkpoint(self) -> None:
        """Copy the WAL into the database without blocking readers or writers."""
        self.conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    # -- objects ------------------------------------------------------------------------
    def put(
        self,
        object_id: str,
        type_: str,
        created: int,
        data: dict[str, Any],
        index: dict[str, str | None] | None = None,
        deleted: bool = False,
    ) -> None:
        idx = index or {}
        self.conn.execute(
            "INSERT INTO objects (id, type, created, deleted, customer, payment_intent, charge,"
            " subtype, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT(id) DO UPDATE SET deleted=excluded.deleted, customer=excluded.customer,"
            " payment_intent=excluded.payment_intent, charge=excluded.charge,"
            " subtype=excluded.subtype, data=excluded.data",
            (
                object_id,
                type_,
                created,
                int(deleted),
                idx.get("customer"),
                idx.get("payment_intent"),
                idx.get("charge"),
                idx.get("subtype"),
                codec.dumps_text(data),
            ),
        )

    def get(self, object_id: str, type_: str | None = None) -> Row | None:
        row = self.conn.execute(
            "SELECT id, type, created, data FROM objects WHERE id = ?", (object_id,)
        ).fetchone()
        if row is None or (type_ is not None and row[1] != type_):
            return None
        return Row(row[0], row[1], row[2], codec.loads(row[3]))

    def is_deleted(self, object_id: str) -> bool:
        row = self.conn.execute("SELECT deleted FROM objects WHERE id = ?", (object_id,)).fetchone()
        return bool(row and row[0])

    def remove(self, object_id: str) -> None:
        self.conn.execute("DELETE FROM objects WHERE id = ?", (object_id,))

    def position(self, object_id: str, type_: str) -> tuple[int, int] | None:
        row = self.conn.execute(
            "SELECT created, rowid FROM objects WHERE id = ? AND type = ?", (object_id, type_)
        ).fetchone()
        return (row[0], row[1]) if row else None

    def page(
        self,
        type_: str,
        *,
        limit: int,
        filters: dict[str, str] | None = None,
        created: dict[str, int] | None = None,
        after: tuple[int, int] | None = None,
        before: tuple[int, int] | None = None,
        include_deleted: bool = False,
        subtype_patterns: list[str] | None = None,
    ) -> Page:
        """Newest first; ``after``/``before`` are cursor positions (created, rowid)."""
        where = ["type = ?"]
        args: list[Any] = [type_]
        if not include_deleted:
            where.append("deleted = 0")
        for column, value in (filters or {}).items():
            if column not in INDEX_COLUMNS:
                raise ValueError(f"cannot filter on {column}")
            where.append(f"{column} = ?")
            args.append(value)
        if subtype_patterns:
            where.append("(" + " OR ".join("subtype GLOB ?" for _ in subtype_patterns) + ")")
            args += subtype_patterns
        for op, bound in (created or {}).items():
            where.append(f"created {_CREATED_OPS[op]} ?")
            args.append(bound)
        ascending = before is not None
        if after is not None:
            where.append("(created < ? OR (created = ? AND rowid < ?))")
            args += [after[0], after[0], after[1]]
        if before is not None:
            where.append("(created > ? OR (created = ? AND rowid > ?))")
            args += [before[0], before[0], before[1]]
        order = "ASC" if ascending else "DESC"
        sql = (
            f"SELECT id, type, created, data FROM objects WHERE {' AND '.join(where)}"
            f" ORDER BY created {order}, rowid {order} LIMIT ?"
        )
        rows = self.conn.execute(sql, (*args, limit + 1)).fetchall()
        has_more = len(rows) > limit
        rows = rows[:limit]
        if ascending:
            rows.reverse()
        return Page([Row(r[0], r[1], r[2], codec.loads(r[3])) for r in rows], has_more)

    def count(self, type_: str) -> int:
        return int(
            self.conn.execute("SELECT count(*) FROM objects WHERE type = ?", (type_,)).fetchone()[0]
        )

    # -- meta (the clock offset and other shared settings) ------------------------------
    def get_meta(self, key: str, default: str | None = None) -> str | None:
        """Inside a transaction the whole (small) table is read once and kept until the
        transaction ends: a request reads the clock offset and the account's version
        several times, and nobody else can change them meanwhile."""
        conn = self.conn
        if not self._local.meta_kept:
            row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
            return row[0] if row else default
        meta: dict[str, str] | None = self._local.meta
        if meta is None:
            meta = self._local.meta = dict(conn.execute("SELECT key, value FROM meta"))
        return meta.get(key, default)

    def set_meta(self, key: str, value: str) -> None:
        self.conn.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?)"
            " ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, value),
        )
        if self._local.meta is not None:
            self._local.meta[key] = value

    # -- whole-database operations ------------------------------------------------------
    def reset(self, keep: Sequence[str] = ()) -> None:
        with self.transaction() as conn:
            self._local.meta = None
            for table in ("objects", "idempotency_keys", "jobs"):
                conn.execute(f"DELETE FROM {table}")
            placeholders = ",".join("?" for _ in keep)
            conn.execute(
                f"DELETE FROM meta WHERE key NOT IN ({placeholders})"
                if keep
                else "DELETE FROM meta",
                tuple(keep),
            )

    def save_snapshot(self, target: str) -> None:
        Path(target).parent.mkdir(parents=True, exist_ok=True)
        destination = sqlite3.connect(target)
        try:
            self.conn.backup(destination)
        finally:
            destination.close()

    def restore_snapshot(self, source: str) -> None:
        origin = sqlite3.connect(source)
        try:
            origin.backup(self.conn)
        finally:
            origin.close()
            self._local.meta = None
        with self.transaction() as conn:
            create_schema(conn)  # a snapshot taken before a table was added gains it


_CREATED_OPS = {"gt": ">", "gte": ">=", "lt": "<", "lte": "<="}
