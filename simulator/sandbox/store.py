"""SQLite persistence for the sandbox: objects, idempotency keys, jobs and the clock offset.

Every Stripe object is one row: its id, type, creation time, the few foreign keys lists
filter on, and its state as JSON; its other list filters (an event's type, a customer's
email) are rows of ``object_filters``, one per name, kept in step by ``put``. Writers
take ``BEGIN IMMEDIATE`` so several threads and processes serialise on SQLite's write
lock instead of failing with "database is locked"; WAL mode lets readers carry on
meanwhile.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
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


@dataclass(frozen=True)
class Indexer:
    """An object's list filters by name (None: no value), as its class computes them from
    its stored state (``filters(type, data)``), and a ``version`` that changes whenever
    the classes declare other filters. A file whose rows were made by another version
    (or before ``object_filters``) is re-indexed when it is opened."""

    filters: Callable[[str, dict[str, Any]], Mapping[str, str | None]]
    version: str


# In ``meta``: the indexer's version the filter rows were made with, so a file is
# re-indexed once, and again when an object class declares other filters.
FILTERS_VERSION_KEY = "object_filters_version"
REINDEX_BATCH = 5_000
_GLOB_CHARS = frozenset("*?[")


def glob_literal(value: str) -> str:
    """``value`` as a GLOB pattern that matches only itself."""
    return "".join(f"[{char}]" if char in _GLOB_CHARS else char for char in value)


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

    def __init__(self, path: str | os.PathLike[str], *, fsync: bool = False,
                 indexer: Indexer | None = None) -> None:
        """``indexer`` (given by the sandbox's start-up, which knows the object classes)
        fills ``object_filters`` for a file that predates it; without one, such a file
        lists as if its objects had no named filters."""
        self.path = str(path)
        self.fsync = fsync
        self.indexer = indexer
        Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._writer = WriterLock(f"{self.path}.lock")
        self._open_schema()

    def _open_schema(self) -> None:
        with self.transaction() as conn:
            create_schema(conn)
            indexer = self.indexer
            if indexer is not None and self.get_meta(FILTERS_VERSION_KEY) != indexer.version:
                self._reindex(conn, indexer)
                self.set_meta(FILTERS_VERSION_KEY, indexer.version)

    def _reindex(self, conn: sqlite3.Connection, indexer: Indexer) -> None:
        """Rebuild every object's filter rows from its stored state."""
        conn.execute("DELETE FROM object_filters")
        last = -1
        while True:
            rows = conn.execute(
                "SELECT rowid, type, created, data FROM objects WHERE rowid > ?"
                " ORDER BY rowid LIMIT ?", (last, REINDEX_BATCH),
            ).fetchall()
            if not rows:
                return
            conn.executemany(_INSERT_FILTER, [
                (rowid, name, value, type_, created)
                for rowid, type_, created, data in rows
                for name, value in _named(indexer.filters(type_, codec.loads(data))).items()
            ])
            last = rows[-1][0]

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
        index: Mapping[str, str | None] | None = None,
        deleted: bool = False,
    ) -> None:
        """Insert or update an object. ``index`` holds its list filters by name: the
        foreign keys (``INDEX_COLUMNS``) go in columns, the others in ``object_filters``."""
        idx = index or {}
        rowid, created = self.conn.execute(
            "INSERT INTO objects (id, type, created, deleted, customer, payment_intent, charge,"
            " data) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT(id) DO UPDATE SET deleted=excluded.deleted, customer=excluded.customer,"
            " payment_intent=excluded.payment_intent, charge=excluded.charge,"
            " data=excluded.data RETURNING rowid, created",
            (
                object_id,
                type_,
                created,
                int(deleted),
                idx.get("customer"),
                idx.get("payment_intent"),
                idx.get("charge"),
                codec.dumps_text(data),
            ),
        ).fetchall()[0]
        self._put_filters(rowid, type_, created, _named(idx))

    def _put_filters(self, rowid: int, type_: str, created: int, named: dict[str, str]) -> None:
        """Replace the object's filter rows, unless they are unchanged (most updates):
        reading them costs less than rewriting their pages."""
        conn = self.conn
        stored = dict(conn.execute(
            "SELECT name, value FROM object_filters WHERE object_rowid = ?", (rowid,)))
        if stored == named:
            return
        if stored:
            conn.execute("DELETE FROM object_filters WHERE object_rowid = ?", (rowid,))
        for name, value in named.items():
            conn.execute(_INSERT_FILTER, (rowid, name, value, type_, created))

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
        self.conn.execute(
            "DELETE FROM object_filters WHERE object_rowid ="
            " (SELECT rowid FROM objects WHERE id = ?)", (object_id,))
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
        filters: Mapping[str, str] | None = None,
        globs: tuple[str, Sequence[str]] | None = None,
        created: dict[str, int] | None = None,
        after: tuple[int, int] | None = None,
        before: tuple[int, int] | None = None,
        include_deleted: bool = False,
    ) -> Page:
        """Newest first; ``after``/``before`` are cursor positions (created, rowid).

        ``filters`` are equalities on named filters; ``globs`` is one name and the GLOB
        patterns its value must match one of (an event's ``type=charge.*``)."""
        query = _PageQuery(type_, include_deleted)
        for name, value in (filters or {}).items():
            query.equal(name, value)
        if globs is not None:
            query.matching(*globs)
        for op, bound in (created or {}).items():
            query.where(f"{{created}} {_CREATED_OPS[op]} ?", bound)
        ascending = before is not None
        if after is not None:
            query.where("({created} < ? OR ({created} = ? AND {rowid} < ?))",
                        after[0], after[0], after[1])
        if before is not None:
            query.where("({created} > ? OR ({created} = ? AND {rowid} > ?))",
                        before[0], before[0], before[1])
        sql, args = query.sql("ASC" if ascending else "DESC")
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
        keep = (*keep, FILTERS_VERSION_KEY)  # the (emptied) filter rows stay current
        with self.transaction() as conn:
            self._local.meta = None
            for table in ("objects", "object_filters", "idempotency_keys", "jobs"):
                conn.execute(f"DELETE FROM {table}")
            placeholders = ",".join("?" for _ in keep)
            conn.execute(f"DELETE FROM meta WHERE key NOT IN ({placeholders})", keep)

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
        self._open_schema()  # a snapshot taken before a table was added gains it


_CREATED_OPS = {"gt": ">", "gte": ">=", "lt": "<", "lte": "<="}
_INSERT_FILTER = ("INSERT INTO object_filters (object_rowid, name, value, type, created)"
                  " VALUES (?, ?, ?, ?, ?)")
_FILTER_EXISTS = ("EXISTS (SELECT 1 FROM object_filters x WHERE x.object_rowid = o.rowid"
                  " AND x.name = ? AND ({}))")


def _named(index: Mapping[str, str | None]) -> dict[str, str]:
    """The filters kept in ``object_filters``: not the foreign-key columns, not None."""
    return {name: value for name, value in index.items()
            if value is not None and name not in INDEX_COLUMNS}


class _PageQuery:
    """The SQL of one list page. The first foreign-key filter (through its column's
    index), else the first named equality (through ``object_filters_listing``), yields
    the rows in list order so that SQLite stops at the page's end; every other filter is
    checked on the rows met. With neither, the type's ``(type, created)`` index does."""

    def __init__(self, type_: str, include_deleted: bool) -> None:
        self.type = type_
        self.include_deleted = include_deleted
        self.columns: list[tuple[str, str]] = []
        self.named: list[tuple[str, str]] = []
        self.globs: tuple[str, list[str]] | None = None
        self.conditions: list[tuple[str, tuple[Any, ...]]] = []

    def equal(self, name: str, value: str) -> None:
        (self.columns if name in INDEX_COLUMNS else self.named).append((name, value))

    def matching(self, name: str, patterns: Sequence[str]) -> None:
        """No pattern: no filter. A lone pattern without wildcards is an equality that an
        index can serve, and the first to try: one exact value is likely the rarest."""
        if not patterns:
            return
        if len(patterns) == 1 and not _GLOB_CHARS & set(patterns[0]):
            (self.columns if name in INDEX_COLUMNS else self.named).insert(0, (name, patterns[0]))
        else:
            self.globs = (name, list(patterns))

    def where(self, condition: str, *args: Any) -> None:
        """``condition`` names ``{created}`` and ``{rowid}``, the list order's columns."""
        self.conditions.append((condition, args))

    def sql(self, order: str) -> tuple[str, list[Any]]:
        checked = list(self.named)
        if self.named and not self.columns:
            name, value = checked.pop(0)
            source = "object_filters f CROSS JOIN objects o ON o.rowid = f.object_rowid"
            where = ["f.type = ? AND f.name = ? AND f.value = ?"]
            args: list[Any] = [self.type, name, value]
            created, rowid = "f.created", "f.object_rowid"
        else:
            source, where, args = "objects o", ["o.type = ?"], [self.type]
            created, rowid = "o.created", "o.rowid"
        if not self.include_deleted:
            where.append("o.deleted = 0")
        for column, value in self.columns:
            where.append(f"o.{column} = ?")
            args.append(value)
        for name, value in checked:
            where.append(_FILTER_EXISTS.format("x.value = ?"))
            args += [name, value]
        if self.globs is not None:
            name, patterns = self.globs
            where.append(_FILTER_EXISTS.format(" OR ".join("x.value GLOB ?" for _ in patterns)))
            args += [name, *patterns]
        for condition, condition_args in self.conditions:
            where.append(condition.format(created=created, rowid=rowid))
            args += condition_args
        return (f"SELECT o.id, o.type, o.created, o.data FROM {source}"
                f" WHERE {' AND '.join(where)}"
                f" ORDER BY {created} {order}, {rowid} {order} LIMIT ?", args)
