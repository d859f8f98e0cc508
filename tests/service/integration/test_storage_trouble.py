"""A locked database or a full disk while a buyer starts a checkout: a friendly 503,
nothing half-written, and the next click is the same single Checkout Session."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

import pytest
from integration_support import ALICE, Marketplace

from simulator.service.adapters.storage.store import Store


class DiskFullAtAudit(sqlite3.Connection):
    """The disk fills up half-way through a transaction: the payment session's row is
    written, its audit entry is not (SQLite's SQLITE_FULL wording)."""

    def execute(self, sql: str, *args: object) -> sqlite3.Cursor:
        if sql.startswith("INSERT INTO audit_log"):
            raise sqlite3.OperationalError("database or disk is full")
        return super().execute(sql, *args)  # type: ignore[arg-type]


@pytest.fixture
def locked(market: Marketplace) -> Iterator[sqlite3.Connection]:
    """Another process holding the write lock for longer than the service waits."""
    market.repo.busy_timeout = 0.2  # new connections (one per server thread) wait 0.2 s
    market.win(71, 9_000)  # written before the lock is taken
    holder = sqlite3.connect(market.repo.path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    yield holder
    holder.close()


def test_a_locked_database_is_a_friendly_503_and_the_retry_pays_once(
        market: Marketplace, locked: sqlite3.Connection) -> None:
    win = market.repo.get_win("win_71")
    assert win is not None
    answer = market.client(ALICE).create_checkout(win.id)
    assert answer.status_code == 503
    assert answer.json()["error"]["code"] == "service_busy"
    assert "Nothing was charged" in answer.json()["error"]["message"]
    assert answer.headers["Retry-After"] == "5"
    locked.execute("ROLLBACK")

    assert market.repo.sessions_for_win(win.id) == []  # nothing half-written
    started = market.start(win)
    market.pay(started["payment_session_id"])
    assert len(market.sandbox.checkout_sessions_for(win.id)) == 1
    assert len(market.orders(win)) == 1


def test_a_full_disk_is_a_friendly_503_and_nothing_half_written(
        market: Marketplace, monkeypatch: pytest.MonkeyPatch) -> None:
    win = market.win(72, 9_000)

    def full_disk(store: Store) -> sqlite3.Connection:
        conn = sqlite3.connect(store.path, isolation_level=None, check_same_thread=False,
                               factory=DiskFullAtAudit)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA foreign_keys=ON")
        return conn

    monkeypatch.setattr(Store, "_connect", full_disk)
    answer = market.client(ALICE).create_checkout(win.id)
    monkeypatch.undo()
    assert answer.status_code == 503
    assert answer.json()["error"]["code"] == "storage_full"
    assert market.repo.sessions_for_win(win.id) == []
    assert market.sandbox.checkout_sessions_for(win.id) == []

    market.pay(market.start(win)["payment_session_id"])
    assert len(market.orders(win)) == 1
