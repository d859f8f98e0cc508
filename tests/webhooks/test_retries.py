"""Failed deliveries are retried on the sandbox clock, per retry profile."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from webhook_sandbox import Endpoint, Sandbox, sandbox_at

from harness.servers import start_sandbox
from simulator.sandbox.webhooks.receiver import WebhookReceiver


def _deliver_until_done(sandbox: Sandbox, event: str, max_rounds: int = 6) -> dict[str, Any]:
    """Drain, and move the clock to the next retry, until the delivery is settled."""
    for step in range(max_rounds):
        sandbox.drain()
        [delivery] = sandbox.deliveries(event=event)
        if delivery["status"] != "pending":
            return delivery
        sandbox.advance(2**step)
    raise AssertionError(f"still pending: {delivery}")


def test_a_receiver_failing_twice_gets_the_event_exactly_once(
    sandbox: Sandbox, endpoint: Endpoint, receiver: WebhookReceiver
) -> None:
    sandbox.profile("fast")
    receiver.statuses = [500, 500]
    event = sandbox.event_for(sandbox.create_customer())

    delivery = _deliver_until_done(sandbox, event)

    assert delivery["status"] == "delivered"
    assert [a["status_code"] for a in delivery["attempts"]] == [500, 500, 200]
    assert receiver.acknowledged_ids() == [event]
    assert sandbox.pending_webhooks(event) == 0


def test_an_unreachable_endpoint_fails_for_good_after_the_fast_profile(
    sandbox: Sandbox, receiver: WebhookReceiver
) -> None:
    sandbox.profile("fast")
    closed = sandbox.sdk.v1.webhook_endpoints.create(
        params={"url": "http://127.0.0.1:9/unreachable", "enabled_events": ["customer.created"]}
    )
    event = sandbox.event_for(sandbox.create_customer())
    delivery = _deliver_until_done(sandbox, event, max_rounds=8)
    sandbox.sdk.v1.webhook_endpoints.delete(closed.id)

    assert delivery["status"] == "failed"
    attempts = delivery["attempts"]
    assert len(attempts) == 6
    assert all(a["error"].startswith("Connection error") for a in attempts)
    assert sandbox.pending_webhooks(event) == 1


def test_an_endpoint_can_have_its_own_profile(
    sandbox: Sandbox, endpoint: Endpoint, receiver: WebhookReceiver
) -> None:
    sandbox.profile("live")
    sandbox.control("POST", f"/webhooks/endpoints/{endpoint.id}/config", profile="fast")
    receiver.statuses = [503]
    event = sandbox.event_for(sandbox.create_customer())
    sandbox.drain()

    [delivery] = sandbox.deliveries(event=event)
    assert delivery["next_attempt_at"] - delivery["attempts"][0]["attempted_at"] == pytest.approx(
        1.0, abs=0.01
    )


@pytest.fixture
def jumping_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    """A sandbox whose clock we move by hours (signatures then carry sandbox time)."""
    server = start_sandbox(tmp_path_factory.mktemp("jumping"), workers=1, threads=2)
    yield sandbox_at(server)
    server.stop()


def test_the_test_profile_retries_three_times_over_a_few_hours(
    jumping_sandbox: Sandbox,
) -> None:
    sandbox = jumping_sandbox
    sandbox.profile("test")
    with WebhookReceiver(statuses=[500] * 10) as receiver:
        created = sandbox.sdk.v1.webhook_endpoints.create(
            params={"url": receiver.url, "enabled_events": ["customer.created"]}
        )
        receiver.secrets = [str(created.secret)]
        receiver.tolerance = 10**9  # the sandbox clock runs hours ahead of ours
        event = sandbox.event_for(sandbox.create_customer())
        sandbox.drain()
        [delivery] = sandbox.deliveries(event=event)
        assert delivery["status"] == "pending"
        assert delivery["next_attempt_at"] - delivery["created"] == pytest.approx(300, abs=2)

        sandbox.advance(4 * 3600)  # one drain catches up with every skipped retry
        sandbox.drain()

    [delivery] = sandbox.deliveries(event=event)
    assert delivery["status"] == "failed"
    assert [a["status_code"] for a in delivery["attempts"]] == [500, 500, 500, 500]
    assert sandbox.pending_webhooks(event) == 1
