"""The SQLite store's list pages, filters and snapshots (simulator/sandbox/store.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from simulator.sandbox.store import Row, Store


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(tmp_path / "store.sqlite3")


def put(store: Store, object_id: str, created: int, type_: str = "customer",
        **index: str | None) -> None:
    with store.transaction():
        store.put(object_id, type_, created, {"id": object_id}, index)


def ids(rows: list[Row]) -> list[str]:
    return [row.id for row in rows]


def position(store: Store, object_id: str, type_: str = "customer") -> tuple[int, int]:
    found = store.position(object_id, type_)
    assert found is not None
    return found


@pytest.fixture
def five(store: Store) -> Store:
    """c1..c5; c2, c3 and c4 share a second, as objects made in one request do."""
    for object_id, created in [("c1", 100), ("c2", 200), ("c3", 200), ("c4", 200), ("c5", 300)]:
        put(store, object_id, created)
    return store


def test_newest_first_with_ties_in_insertion_order(five: Store) -> None:
    page = five.page("customer", limit=10)
    assert ids(page.rows) == ["c5", "c4", "c3", "c2", "c1"]
    assert page.has_more is False


def test_limit_and_has_more(five: Store) -> None:
    page = five.page("customer", limit=2)
    assert ids(page.rows) == ["c5", "c4"]
    assert page.has_more is True
    assert five.page("customer", limit=5).has_more is False


def test_starting_after_walks_through_ties(five: Store) -> None:
    seen: list[str] = []
    after = None
    while True:
        page = five.page("customer", limit=2, after=after)
        seen += ids(page.rows)
        if not page.has_more:
            break
        after = position(five, seen[-1])
    assert seen == ["c5", "c4", "c3", "c2", "c1"]


def test_ending_before_pages_backwards(five: Store) -> None:
    page = five.page("customer", limit=2, before=position(five, "c2"))
    assert ids(page.rows) == ["c4", "c3"]
    assert page.has_more is True
    page = five.page("customer", limit=2, before=position(five, "c4"))
    assert ids(page.rows) == ["c5"]
    assert page.has_more is False


def test_created_filters(five: Store) -> None:
    def listed(**created: int) -> list[str]:
        return ids(five.page("customer", limit=10, created=created).rows)

    assert listed(gte=200) == ["c5", "c4", "c3", "c2"]
    assert listed(gt=200) == ["c5"]
    assert listed(lte=200) == ["c4", "c3", "c2", "c1"]
    assert listed(lt=200) == ["c1"]
    assert listed(gte=200, lte=200) == ["c4", "c3", "c2"]


def test_types_and_foreign_keys_are_separate(store: Store) -> None:
    put(store, "cus_a", 100)
    put(store, "pi_1", 100, "payment_intent", customer="cus_a")
    put(store, "pi_2", 101, "payment_intent", customer="cus_b")
    assert ids(store.page("customer", limit=10).rows) == ["cus_a"]
    assert ids(store.page("payment_intent", limit=10, filters={"customer": "cus_a"}).rows) == [
        "pi_1"
    ]
    # A name no object was indexed under (not a column either) matches nothing.
    assert store.page("payment_intent", limit=10, filters={"data": "x"}).rows == []


def test_deleted_objects_are_left_out(store: Store) -> None:
    put(store, "c1", 100)
    with store.transaction():
        store.put("c2", "customer", 101, {"id": "c2"}, deleted=True)
    assert ids(store.page("customer", limit=10).rows) == ["c1"]
    assert ids(store.page("customer", limit=10, include_deleted=True).rows) == ["c2", "c1"]
    assert store.is_deleted("c2")


def test_glob_patterns_on_a_named_filter(store: Store) -> None:
    types = ["customer.created", "customer.updated", "charge.succeeded",
             "customer.subscription.created"]
    for number, event_type in enumerate(types):
        put(store, f"evt_{number}", 100 + number, "event", type=event_type)

    def listed(*patterns: str) -> list[str]:
        return ids(store.page("event", limit=10, globs=("type", patterns)).rows)

    assert listed("customer.created") == ["evt_0"]
    assert listed("customer.*") == ["evt_3", "evt_1", "evt_0"]
    assert listed("*.created") == ["evt_3", "evt_0"]
    assert listed("customer.updated", "charge.succeeded") == ["evt_2", "evt_1"]
    assert listed("payment_intent.*") == []


def test_an_update_keeps_the_list_position(store: Store) -> None:
    put(store, "c1", 100)
    put(store, "c2", 100)
    with store.transaction():
        store.put("c1", "customer", 100, {"id": "c1", "name": "changed"})
    assert ids(store.page("customer", limit=10).rows) == ["c2", "c1"]
    row = store.get("c1")
    assert row is not None and row.data["name"] == "changed"


def test_get_checks_the_type(store: Store) -> None:
    put(store, "c1", 100)
    assert store.get("c1", "customer") is not None
    assert store.get("c1", "payment_intent") is None
    assert store.get("missing") is None
    assert store.position("c1", "payment_intent") is None


def test_a_failed_transaction_leaves_nothing(store: Store) -> None:
    with pytest.raises(RuntimeError), store.transaction():
        store.put("c1", "customer", 100, {"id": "c1"})
        raise RuntimeError("boom")
    assert store.get("c1") is None


def test_snapshot_save_and_restore(store: Store, tmp_path: Path) -> None:
    put(store, "c1", 100)
    with store.transaction():
        store.set_meta("clock_offset", "42.0")
    snapshot = str(tmp_path / "snapshots" / "before.sqlite3")
    store.save_snapshot(snapshot)

    put(store, "c2", 200)
    with store.transaction():
        store.set_meta("clock_offset", "99.0")
    store.restore_snapshot(snapshot)

    assert ids(store.page("customer", limit=10).rows) == ["c1"]
    assert store.get_meta("clock_offset") == "42.0"
    put(store, "c3", 300)
    assert ids(store.page("customer", limit=10).rows) == ["c3", "c1"]


def test_reset_keeps_only_the_named_meta(store: Store) -> None:
    put(store, "c1", 100)
    with store.transaction():
        store.set_meta("clock_offset", "5")
        store.set_meta("other", "x")
    store.reset(keep=["clock_offset"])
    assert store.count("customer") == 0
    assert store.get_meta("clock_offset") == "5"
    assert store.get_meta("other") is None


def test_named_filters_follow_updates_and_removal(store: Store) -> None:
    put(store, "cus_a", 100, email="ada@example.com")
    put(store, "cus_b", 101, email="ada@example.com")

    def by_email(email: str) -> list[str]:
        return ids(store.page("customer", limit=10, filters={"email": email}).rows)

    assert by_email("ada@example.com") == ["cus_b", "cus_a"]
    put(store, "cus_a", 100, email="grace@example.com")  # an update replaces the value
    assert by_email("ada@example.com") == ["cus_b"]
    assert by_email("grace@example.com") == ["cus_a"]
    put(store, "cus_a", 100)  # no value any more: no filter matches it
    assert by_email("grace@example.com") == []
    with store.transaction():
        store.remove("cus_b")
    assert by_email("ada@example.com") == []
    assert store.conn.execute("SELECT count(*) FROM object_filters").fetchone()[0] == 0


def test_a_named_filter_pages_through_ties_both_ways(store: Store) -> None:
    for object_id, created in [("e1", 100), ("e2", 200), ("e3", 200), ("e4", 200),
                               ("e5", 300)]:
        put(store, object_id, created, "event", type="charge.succeeded")
    put(store, "e6", 200, "event", type="customer.created")
    seen: list[str] = []
    after = None
    while True:
        page = store.page("event", limit=2, after=after, filters={"type": "charge.succeeded"})
        seen += ids(page.rows)
        if not page.has_more:
            break
        after = position(store, seen[-1], "event")
    assert seen == ["e5", "e4", "e3", "e2", "e1"]
    page = store.page("event", limit=2, before=position(store, "e2", "event"),
                      filters={"type": "charge.succeeded"}, created={"lte": 200})
    assert (ids(page.rows), page.has_more) == (["e4", "e3"], False)


def test_foreign_keys_and_named_filters_combine(store: Store) -> None:
    put(store, "pm_1", 100, "payment_method", customer="cus_a", type="card")
    put(store, "pm_2", 101, "payment_method", customer="cus_a", type="sepa_debit")
    put(store, "pm_3", 102, "payment_method", customer="cus_b", type="card")
    put(store, "pm_4", 103, "payment_method", customer="cus_a", type="card", inline="false")

    def listed(**filters: str) -> list[str]:
        return ids(store.page("payment_method", limit=10, filters=filters).rows)

    assert listed(customer="cus_a", type="card") == ["pm_4", "pm_1"]
    assert listed(type="card", inline="false") == ["pm_4"]
    assert listed(type="card", customer="cus_b") == ["pm_3"]
    assert listed(type="card") == ["pm_4", "pm_3", "pm_1"]


def test_reset_and_snapshots_carry_the_named_filters(store: Store, tmp_path: Path) -> None:
    put(store, "cus_a", 100, email="ada@example.com")
    snapshot = str(tmp_path / "snapshots" / "one.sqlite3")
    store.save_snapshot(snapshot)
    store.reset()
    assert store.conn.execute("SELECT count(*) FROM object_filters").fetchone()[0] == 0
    put(store, "cus_b", 200, email="ada@example.com")
    store.restore_snapshot(snapshot)
    assert ids(store.page("customer", limit=10, filters={"email": "ada@example.com"}).rows) == [
        "cus_a"]


def _plan(store: Store, type_: str, **query: Any) -> str:
    """SQLite's plan for the page ``store.page`` asks for."""
    statements: list[str] = []
    store.conn.set_trace_callback(statements.append)
    try:
        store.page(type_, limit=10, **query)
    finally:
        store.conn.set_trace_callback(None)
    select = next(sql for sql in statements if sql.startswith("SELECT o.id"))
    return " / ".join(row[3] for row in store.conn.execute(f"EXPLAIN QUERY PLAN {select}"))


@pytest.mark.parametrize(("type_", "query", "index"), [
    ("customer", {"filters": {"email": "ada@example.com"}}, "object_filters_listing"),
    ("event", {"globs": ("type", ["charge.succeeded"])}, "object_filters_listing"),
    ("product", {"filters": {"inline": "false", "active": "true"}}, "object_filters_listing"),
    ("payment_method", {"filters": {"customer": "cus_a", "type": "card"}}, "objects_by_customer"),
    ("event", {"globs": ("type", ["charge.*"])}, "idx_objects_type_created"),
])
def test_filtered_lists_read_an_index_in_list_order(store: Store, type_: str,
                                                    query: dict[str, Any], index: str) -> None:
    """Each page is read newest first from an index and stops at its end: no sort of
    every match (a temporary B-tree), and no scan of every object."""
    plan = _plan(store, type_, **query)
    assert index in plan
    assert "TEMP B-TREE" not in plan
    assert "SCAN o" not in plan and "SCAN objects" not in plan
    cursor = _plan(store, type_, after=(100, 1), **query)
    assert index in cursor and "TEMP B-TREE" not in cursor
