"""The outbox in-process: queued atomically with the event, claimed under a lease."""

from __future__ import annotations

from pathlib import Path

import pytest

from simulator.common.clock import system_time
from simulator.common.ids import IdGenerator
from simulator.sandbox.resources.base import Ctx, save
from simulator.sandbox.resources.customer import Customer
from simulator.sandbox.resources.event import Event, EventLog
from simulator.sandbox.resources.webhook_endpoint import WebhookEndpoint
from simulator.sandbox.store import Store
from simulator.sandbox.webhooks import outbox, queue_deliveries
from simulator.sandbox.webhooks.outbox import Outcome

NOW = 1_795_000_000


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(tmp_path / "outbox.sqlite3")  # the outbox's tables come with every store


def _ctx(store: Store) -> Ctx:
    return Ctx(store=store, now=NOW, ids=IdGenerator(), sink=EventLog([queue_deliveries]))


def _endpoint(ctx: Ctx) -> WebhookEndpoint:
    endpoint = WebhookEndpoint(id=ctx.ids.new("we"), created=NOW, url="http://127.0.0.1:9/",
                               enabled_events=["*"], secret="whsec_x")
    save(ctx, endpoint)
    return endpoint


def _emit(store: Store) -> None:
    ctx = _ctx(store)
    _endpoint(ctx)
    ctx.emit("customer.created", Customer(id=ctx.ids.new("cus"), created=NOW))


def _rows(store: Store) -> int:
    return int(store.conn.execute("SELECT count(*) FROM webhook_deliveries").fetchone()[0])


def test_a_delivery_commits_with_its_event(store: Store) -> None:
    with store.transaction():
        _emit(store)
    assert _rows(store) == 1
    assert store.count("event") == 1


def test_a_rolled_back_event_queues_nothing(store: Store) -> None:
    with pytest.raises(RuntimeError), store.transaction():
        _emit(store)
        raise RuntimeError("the request failed after emitting")
    assert _rows(store) == 0
    assert store.count("event") == 0


def _queue(store: Store, count: int) -> None:
    with store.transaction():
        ctx = _ctx(store)
        endpoint = _endpoint(ctx)
        for _ in range(count):
            emitted = Event(id=ctx.ids.new("evt"), created=NOW, type="customer.created", data={})
            outbox.queue_event_deliveries(ctx, emitted, [endpoint])


def _claim(store: Store, token: str, lease: float = 30.0, system_now: float | None = None
           ) -> list[outbox.Claim]:
    return outbox.claim_due(store, now=NOW, system_now=system_now or system_time(),
                            lease_seconds=lease, token=token, limit=10)


def test_two_processes_never_claim_the_same_delivery(store: Store, tmp_path: Path) -> None:
    _queue(store, 15)
    other_process = Store(store.path)  # its own connection and writer lock, as after a fork
    first = _claim(store, "a")
    second = _claim(other_process, "b")
    assert len(first) == 10 and len(second) == 5
    assert not {c.id for c in first} & {c.id for c in second}
    assert _claim(store, "c") == []


def test_a_delivery_whose_lease_ran_out_is_claimed_again(store: Store) -> None:
    _queue(store, 1)
    [crashed] = _claim(store, "dead-process", lease=5.0)
    assert _claim(store, "early") == []
    [resumed] = _claim(store, "restarted", system_now=system_time() + 6)
    assert resumed.id == crashed.id
    assert resumed.attempt == 1  # the crashed attempt was never recorded


def test_only_the_lease_holder_settles_a_delivery(store: Store) -> None:
    _queue(store, 1)
    [stale] = _claim(store, "old", lease=5.0)
    [current] = _claim(store, "new", system_now=system_time() + 6)
    ok = Outcome("http://127.0.0.1:9/", NOW, 1.0, status_code=200)
    outbox.record_attempts(_ctx(store), [outbox.Attempted(stale, ok)])
    [delivery] = outbox.list_deliveries(store)
    assert delivery["status"] == "pending"  # logged, but not settled by the old holder
    outbox.record_attempts(_ctx(store), [outbox.Attempted(current, ok)])
    [delivery] = outbox.list_deliveries(store)
    assert delivery["status"] == "delivered"
    assert len(delivery["attempts"]) == 2
