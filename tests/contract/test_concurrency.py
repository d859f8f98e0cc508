"""Many SDK clients at once against a multi-process sandbox (2 workers x 4 threads):
nothing lost, nothing doubled, no 500s and no "database is locked"."""

from __future__ import annotations

import threading
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import stripe

from harness.servers import RunningServer, start_sandbox

KEY = "sk_test_concurrency"
CLIENTS = 16
PER_CLIENT = 25
TIME_LIMIT_SECONDS = 180.0
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def busy_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    server = start_sandbox(Path(tmp_path_factory.mktemp("concurrency")), workers=2, threads=4)
    yield server
    server.stop()


def new_client(server: RunningServer) -> stripe.StripeClient:
    return stripe.StripeClient(KEY, base_addresses={"api": server.url}, max_network_retries=0)


def run_clients(server: RunningServer, work: Callable[[stripe.StripeClient, int, int], str]
                ) -> tuple[list[str], list[str]]:
    """``CLIENTS`` threads, each with its own StripeClient, calling ``work`` ``PER_CLIENT``
    times; returns the ids made and every failure (with its traceback)."""
    ids: list[str] = []
    failures: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(CLIENTS)

    def worker(n: int) -> None:
        client = new_client(server)
        start.wait(timeout=30)
        for i in range(PER_CLIENT):
            try:
                made = work(client, n, i)
            except Exception as error:  # collected, then reported together
                with lock:
                    failures.append(f"client {n} #{i}: {error!r}\n{traceback.format_exc(limit=3)}")
                continue
            with lock:
                ids.append(made)

    threads = [threading.Thread(target=worker, args=(n,), daemon=True) for n in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=TIME_LIMIT_SECONDS)
    assert not any(t.is_alive() for t in threads), "clients still running after the time limit"
    return ids, failures


def events_for(client: stripe.StripeClient, event_type: str, ids: set[str]) -> list[str]:
    """Ids of the objects in ``event_type`` events, restricted to ``ids``."""
    found: list[str] = []
    page = client.v1.events.list(params={"type": event_type, "limit": 100})
    for event in page.auto_paging_iter():
        object_id = event.data.object["id"]
        if object_id in ids:
            found.append(object_id)
    return found


def assert_server_log_clean(server: RunningServer) -> None:
    log = Path(server.log_path).read_text(errors="replace")
    assert "database is locked" not in log
    assert "Traceback" not in log, log[-4000:]


def test_parallel_customers(busy_sandbox: RunningServer) -> None:
    def create(client: stripe.StripeClient, n: int, i: int) -> str:
        customer = client.v1.customers.create(
            params={"email": f"bidder-{n}-{i}@example.com", "name": f"Bidder {n}.{i}",
                    "metadata": {"client": str(n), "seq": str(i)}}
        )
        return customer.id

    ids, failures = run_clients(busy_sandbox, create)
    assert not failures, "\n".join(failures[:5])
    assert len(ids) == len(set(ids)) == CLIENTS * PER_CLIENT
    client = new_client(busy_sandbox)
    for customer_id in ids:
        assert client.v1.customers.retrieve(customer_id).id == customer_id
    created = events_for(client, "customer.created", set(ids))
    assert sorted(created) == sorted(ids), "exactly one customer.created per customer"
    assert_server_log_clean(busy_sandbox)


def test_parallel_payment_intents(busy_sandbox: RunningServer) -> None:
    """Each client makes a customer and a confirmed PaymentIntent for them, 25 times."""

    def pay(client: stripe.StripeClient, n: int, i: int) -> str:
        customer = client.v1.customers.create(params={"name": f"Payer {n}.{i}"})
        intent = client.v1.payment_intents.create(params={
            "amount": 1000 + n * 100 + i,
            "currency": "usd",
            "customer": customer.id,
            "payment_method": "pm_card_visa",
            "confirm": True,
        })
        assert intent.status == "succeeded", intent.status
        return intent.id

    ids, failures = run_clients(busy_sandbox, pay)
    assert not failures, f"{len(failures)} failures; first:\n" + "\n".join(failures[:3])
    assert len(ids) == len(set(ids)) == CLIENTS * PER_CLIENT
    client = new_client(busy_sandbox)
    for intent_id in ids:
        intent = client.v1.payment_intents.retrieve(intent_id)
        assert intent.status == "succeeded"
    succeeded = events_for(client, "payment_intent.succeeded", set(ids))
    assert sorted(succeeded) == sorted(ids), "exactly one payment_intent.succeeded per intent"
    assert_server_log_clean(busy_sandbox)
