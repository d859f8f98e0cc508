"""The SQLite store's list pages, filters and snapshots (simulator/sandbox/store.py)."""

from __future__ import annotations

from pathlib import Path

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
    with pytest.raises(ValueError):
        store.page("payment_intent", limit=10, filters={"data": "x"})


def test_deleted_objects_are_left_out(store: Store) -> None:
    put(store, "c1", 100)
    with store.transaction():
        store.put("c2", "customer", 101, {"id": "c2"}, deleted=True)
    assert ids(store.page("customer", limit=10).rows) == ["c1"]
    assert ids(store.page("customer", limit=10, include_deleted=True).rows) == ["c2", "c1"]
    assert store.is_deleted("c2")


def test_subtype_glob_patterns(store: Store) -> None:
    types = ["customer.created", "customer.updated", "charge.succeeded",
             "customer.subscription.created"]
    for number, event_type in enumerate(types):
        put(store, f"evt_{number}", 100 + number, "event", subtype=event_type)

    def listed(*patterns: str) -> list[str]:
        return ids(store.page("event", limit=10, subtype_patterns=list(patterns)).rows)

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
