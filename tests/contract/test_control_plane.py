"""The /_sandbox control plane: health, reset, snapshots, the sandbox clock, and state
that survives a restart. Each test here runs against a sandbox process of its own, so
resetting or moving time never disturbs the shared one."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import stripe

from harness.servers import RunningServer, start_sandbox

KEY = "sk_test_control_plane"


@pytest.fixture(scope="module")
def own_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    server = start_sandbox(Path(tmp_path_factory.mktemp("control")), workers=2, threads=2)
    yield server
    server.stop()


@pytest.fixture
def sdk(own_sandbox: RunningServer) -> stripe.StripeClient:
    return stripe.StripeClient(KEY, base_addresses={"api": own_sandbox.url}, max_network_retries=0)


def control(server: RunningServer, method: str, route: str, **form: str | int
            ) -> requests.Response:
    return requests.request(method, f"{server.url}/_sandbox{route}", data=form or None,
                            timeout=30)


def exists(sdk: stripe.StripeClient, customer_id: str) -> bool:
    try:
        sdk.v1.customers.retrieve(customer_id)
    except stripe.InvalidRequestError as error:
        assert error.code == "resource_missing"
        return False
    return True


def test_health(own_sandbox: RunningServer) -> None:
    response = control(own_sandbox, "GET", "/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert isinstance(body["time"], int)


def test_reset_forgets_objects_keys_and_faults(own_sandbox: RunningServer,
                                               sdk: stripe.StripeClient) -> None:
    key = f"reset-{uuid.uuid4()}"
    customer = sdk.v1.customers.create(params={"name": "Before reset"},
                                       options={"idempotency_key": key})
    control(own_sandbox, "POST", "/faults", path="/v1/never", action="error").raise_for_status()
    response = control(own_sandbox, "POST", "/reset")
    assert response.status_code == 200 and response.json()["reset"] is True
    assert not exists(sdk, customer.id)
    assert control(own_sandbox, "GET", "/faults").json()["faults"] == []
    again = sdk.v1.customers.create(params={"name": "Before reset"},
                                    options={"idempotency_key": key})
    assert again.id != customer.id
    assert again.last_response is not None
    assert "Idempotent-Replayed" not in again.last_response.headers


def test_snapshot_save_mutate_restore(own_sandbox: RunningServer, sdk: stripe.StripeClient) -> None:
    kept = sdk.v1.customers.create(params={"name": "Kept", "metadata": {"lot": "1"}})
    name = f"before-{uuid.uuid4().hex[:8]}"
    saved = control(own_sandbox, "POST", f"/snapshots/{name}")
    assert saved.status_code == 200 and saved.json() == {"snapshot": name, "saved": True}
    assert name in control(own_sandbox, "GET", "/snapshots").json()["snapshots"]

    later = sdk.v1.customers.create(params={"name": "Later"})
    sdk.v1.customers.update(kept.id, params={"name": "Changed", "metadata": {"lot": "2"}})

    restored = control(own_sandbox, "POST", f"/snapshots/{name}/restore")
    assert restored.status_code == 200 and restored.json()["restored"] is True
    back = sdk.v1.customers.retrieve(kept.id)
    assert back.name == "Kept" and back.metadata is not None
    assert back.metadata.to_dict() == {"lot": "1"}
    assert not exists(sdk, later.id)
    # Every worker process sees the restored state, not only the one that restored it.
    for _ in range(6):
        assert sdk.v1.customers.retrieve(kept.id).name == "Kept"


def test_unknown_snapshot_is_404(own_sandbox: RunningServer) -> None:
    response = control(own_sandbox, "POST", "/snapshots/never-saved/restore")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "resource_missing"


def test_snapshot_names_are_checked(own_sandbox: RunningServer) -> None:
    response = control(own_sandbox, "POST", "/snapshots/..%2F..%2Fetc")
    assert response.status_code in (400, 404)
    assert "error" in response.json()


def test_clock_shows_and_advances(own_sandbox: RunningServer, sdk: stripe.StripeClient) -> None:
    before = control(own_sandbox, "GET", "/clock").json()
    assert {"now", "offset_seconds", "iso"} <= set(before)
    plain = sdk.v1.customers.create(params={"name": "Now"})
    advanced = control(own_sandbox, "POST", "/clock/advance", seconds=7200)
    assert advanced.status_code == 200, advanced.text
    after = advanced.json()
    assert after["offset_seconds"] == pytest.approx(before["offset_seconds"] + 7200)
    assert after["now"] >= before["now"] + 7200
    shifted = sdk.v1.customers.create(params={"name": "Two hours on"})
    assert shifted.created - plain.created >= 7200
    assert shifted.created - plain.created < 7200 + 60
    assert control(own_sandbox, "GET", "/clock").json()["offset_seconds"] == after["offset_seconds"]


def test_clock_only_moves_forward(own_sandbox: RunningServer) -> None:
    response = control(own_sandbox, "POST", "/clock/advance", seconds=-10)
    assert response.status_code == 400
    assert response.json()["error"]["param"] == "seconds"
    missing = control(own_sandbox, "POST", "/clock/advance")
    assert missing.status_code == 400
    assert missing.json()["error"]["code"] == "parameter_missing"


def test_state_survives_a_restart(tmp_path: Path) -> None:
    db = str(tmp_path / "persistent.sqlite3")
    key = f"restart-{uuid.uuid4()}"
    first = start_sandbox(tmp_path / "one", db_path=db, workers=1, threads=2)
    try:
        sdk = stripe.StripeClient(KEY, base_addresses={"api": first.url}, max_network_retries=0)
        customer = sdk.v1.customers.create(params={"email": "persist@example.com"},
                                           options={"idempotency_key": key})
        control(first, "POST", "/clock/advance", seconds=3600).raise_for_status()
    finally:
        first.stop()
    second = start_sandbox(tmp_path / "two", db_path=db, workers=2, threads=2)
    try:
        sdk = stripe.StripeClient(KEY, base_addresses={"api": second.url}, max_network_retries=0)
        assert sdk.v1.customers.retrieve(customer.id).email == "persist@example.com"
        assert control(second, "GET", "/clock").json()["offset_seconds"] == pytest.approx(3600)
        replay = sdk.v1.customers.create(params={"email": "persist@example.com"},
                                         options={"idempotency_key": key})
        assert replay.id == customer.id
        assert replay.last_response is not None
        assert replay.last_response.headers["Idempotent-Replayed"] == "true"
        events = sdk.v1.events.list(params={"type": "customer.created"})
        assert customer.id in [e.data.object["id"] for e in events.data]
    finally:
        second.stop()
