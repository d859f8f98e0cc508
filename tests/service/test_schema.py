"""One schema: opening the store makes every table the service uses, whatever adapter
comes to read it later, and brings a database an older version made up to date."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from simulator.service.adapters.fraud_signals import FraudSignals, verdict_counts
from simulator.service.adapters.repositories import Repository
from simulator.service.adapters.sms_records import TextMessageRecords
from simulator.service.adapters.storage.schema import TABLES

NOW = 1_740_830_400


def tables_of(repo: Repository) -> set[str]:
    rows = repo.connection().execute("SELECT name FROM sqlite_master WHERE type = 'table'")
    return {str(row[0]) for row in rows}


def columns_of(repo: Repository, table: str) -> set[str]:
    return {str(row[1]) for row in repo.connection().execute(f"PRAGMA table_info({table})")}


def test_opening_the_store_makes_every_table_before_any_adapter_is_used(
        tmp_path: Path) -> None:
    repo = Repository(tmp_path / "service.sqlite3")

    assert {*TABLES, "fraud_checkout_signals", "fraud_card_uses", "fraud_decisions",
            "user_phones", "sms_outbox"} <= tables_of(repo)
    assert verdict_counts(repo) == []
    assert FraudSignals(repo).decisions_for("transaction", "txn_1") == []
    repo.close()


def test_a_database_an_older_version_made_gains_the_columns_added_since(
        tmp_path: Path) -> None:
    db = tmp_path / "service.sqlite3"
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE transactions (id TEXT PRIMARY KEY, payment_session_id TEXT,"
                 " win_id TEXT, amount INTEGER, payment_intent_id TEXT)")
    conn.execute("CREATE TABLE sms_outbox (id INTEGER PRIMARY KEY, dedupe_key TEXT NOT NULL"
                 " UNIQUE, to_number TEXT NOT NULL, body TEXT NOT NULL, status TEXT NOT NULL"
                 " DEFAULT 'pending', attempts INTEGER NOT NULL DEFAULT 0, last_error TEXT,"
                 " provider_id TEXT, created_at INTEGER NOT NULL, sent_at INTEGER)")
    conn.execute("INSERT INTO sms_outbox (dedupe_key, to_number, body, created_at)"
                 " VALUES ('receipt:ord_1', '+12025550142', 'Lot 17 paid', ?)", (NOW,))
    conn.commit()
    conn.close()

    repo = Repository(db)

    assert {"review_status", "review_flags", "amount_refunded", "card_country"} <= columns_of(
        repo, "transactions")
    [kept] = TextMessageRecords(repo).list()
    assert (kept.text, kept.delivery) == ("Lot 17 paid", "queued")
    repo.close()
