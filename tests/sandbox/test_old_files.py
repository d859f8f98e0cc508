"""A sandbox file written before list filters had their own table (``object_filters``):
``objects`` then had one more column that held each type's packed filter values, and
there was no filter table. Opening such a file, or restoring such a snapshot, re-indexes
it from each object's data, and every list answers as it would have."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from flask.testing import FlaskClient

from simulator.sandbox import registrations
from simulator.sandbox.app import create_app
from simulator.sandbox.resources.customer import Customer
from simulator.sandbox.runtime import SandboxConfig
from simulator.sandbox.store import FILTERS_VERSION_KEY

OLD_COLUMN = "subtype"  # the retired column
OLD_SCHEMA = (
    "CREATE TABLE [objects] ([id] TEXT PRIMARY KEY, [type] TEXT NOT NULL,"
    " [created] INTEGER NOT NULL, [deleted] INTEGER DEFAULT 0, [customer] TEXT,"
    f" [payment_intent] TEXT, [charge] TEXT, [{OLD_COLUMN}] TEXT, [data] TEXT NOT NULL)",
    "CREATE INDEX [idx_objects_type_created] ON [objects] ([type], [created])",
    *(f"CREATE INDEX objects_by_{column} ON objects ({column}, type, created)"
      f" WHERE {column} IS NOT NULL"
      for column in ("customer", "payment_intent", "charge", OLD_COLUMN)),
    "CREATE TABLE [meta] ([key] TEXT PRIMARY KEY, [value] TEXT)",
)
QUERIES = (
    "/v1/customers?email=ada@example.com",
    "/v1/customers?email=nobody@example.com",
    "/v1/events?type=customer.created",
    "/v1/events?type=payment_intent.*",
    "/v1/events?types[]=customer.created&types[]=product.created",
    "/v1/products?active=true",
    "/v1/products?active=false",
    "/v1/prices?lookup_keys[]=gold",
    "/v1/payment_methods?type=card",
)


def client(db_path: Path) -> FlaskClient:
    api = create_app(SandboxConfig(db_path=str(db_path))).test_client()
    api.environ_base["HTTP_AUTHORIZATION"] = "Bearer sk_test_old_files"
    return api


def ok(api: FlaskClient, path: str, **data: Any) -> dict[str, Any]:
    answer = api.post(path, data=data)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    body: dict[str, Any] = answer.get_json()
    return body


def make_objects(api: FlaskClient) -> None:
    """Customers (two share an address), products and prices, a paid PaymentIntent."""
    ada = ok(api, "/v1/customers", email="ada@example.com", name="Ada")
    ok(api, "/v1/customers", email="bob@example.com")
    ok(api, "/v1/customers", email="ada@example.com", name="Ada again")
    gold = ok(api, "/v1/products", name="Gold lot")
    ok(api, "/v1/products", name="Old lot", active="false")
    ok(api, "/v1/prices", product=gold["id"], unit_amount="500", currency="usd",
       lookup_key="gold")
    ok(api, "/v1/payment_intents", amount="2000", currency="usd", customer=ada["id"],
       payment_method="pm_card_visa", confirm="true")


def answers(api: FlaskClient) -> dict[str, Any]:
    found = {path: api.get(path).get_json() for path in QUERIES}
    assert all(answer["data"] for path, answer in found.items() if "nobody" not in path)
    return found


def write_old_file(source: Path, target: Path) -> None:
    """``source``'s objects in the old shape: the retired column filled (customers' emails,
    events' types) and no filter table."""
    old = sqlite3.connect(target)
    with old:
        for statement in OLD_SCHEMA:
            old.execute(statement)
        rows = sqlite3.connect(source).execute(
            "SELECT id, type, created, deleted, customer, payment_intent, charge, data,"
            " json_extract(data, '$.email'), json_extract(data, '$.type')"
            " FROM objects ORDER BY rowid").fetchall()
        old.executemany(
            f"INSERT INTO objects (id, type, created, deleted, customer, payment_intent, charge,"
            f" data, {OLD_COLUMN}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(*row[:8], row[8] if row[1] == "customer" else row[9] if row[1] == "event"
              else None) for row in rows])
    old.close()


def test_an_old_file_is_reindexed_when_the_sandbox_opens_it(tmp_path: Path) -> None:
    source = client(tmp_path / "source.sqlite3")
    make_objects(source)
    expected = answers(source)
    old = tmp_path / "old.sqlite3"
    write_old_file(tmp_path / "source.sqlite3", old)

    assert answers(client(old)) == expected
    db = sqlite3.connect(old)
    assert db.execute("SELECT value FROM meta WHERE key = ?", (FILTERS_VERSION_KEY,)
                      ).fetchone() is not None
    indexes = [row[1] for row in db.execute("PRAGMA index_list(objects)")]
    assert f"objects_by_{OLD_COLUMN}" not in indexes
    filter_rows = db.execute("SELECT count(*) FROM object_filters").fetchone()[0]
    db.close()
    reopened = client(old)  # the second opening finds it done
    assert answers(reopened) == expected
    ok(reopened, "/v1/customers", email="ada@example.com")  # and new objects are indexed
    assert len(reopened.get(QUERIES[0]).get_json()["data"]) == 3
    db = sqlite3.connect(old)
    assert db.execute("SELECT count(*) FROM object_filters").fetchone()[0] == filter_rows + 2
    db.close()


def test_an_old_snapshot_is_reindexed_when_restored(tmp_path: Path) -> None:
    source = client(tmp_path / "source.sqlite3")
    make_objects(source)
    expected = answers(source)
    current = client(tmp_path / "current.sqlite3")
    ok(current, "/v1/customers", email="ada@example.com", name="Not in the snapshot")
    snapshots = tmp_path / "current.sqlite3.snapshots"
    snapshots.mkdir()
    write_old_file(tmp_path / "source.sqlite3", snapshots / "before.sqlite3")

    assert current.post("/_sandbox/snapshots/before/restore").status_code == 200
    assert answers(current) == expected


def test_a_file_indexed_by_other_filters_is_reindexed(tmp_path: Path) -> None:
    """Rows made while a class declared other filters (another indexer version) are
    rebuilt at the next start, so a filter added later finds older objects too."""
    path = tmp_path / "sandbox.sqlite3"
    api = client(path)
    make_objects(api)
    expected = answers(api)
    db = sqlite3.connect(path)
    with db:
        db.execute("DELETE FROM object_filters WHERE name = 'email'")
        db.execute("UPDATE meta SET value = 'made-by-other-filters' WHERE key = ?",
                   (FILTERS_VERSION_KEY,))
    db.close()
    assert answers(client(path)) == expected


def test_the_indexer_version_follows_the_declared_filters(monkeypatch: Any) -> None:
    before = registrations._filters_version()
    monkeypatch.setattr(Customer, "FILTERS", (*Customer.FILTERS, "name"))
    assert registrations._filters_version() != before
    assert registrations.INDEXER.version == before
