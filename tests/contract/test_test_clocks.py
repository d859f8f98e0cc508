"""Test clocks through the official SDK over real HTTP."""

from __future__ import annotations

import time

import pytest
import requests
import stripe

from harness.servers import RunningServer

FROZEN = 1_577_836_800  # 2020-01-01T00:00:00Z
DAY = 86_400


def wait_until_ready(client: stripe.StripeClient, clock_id: str, server: RunningServer
                     ) -> stripe.test_helpers.TestClock:
    """Stripe finishes an advance asynchronously; poll as a client of Stripe would."""
    deadline = time.monotonic() + 5
    while True:
        clock = client.v1.test_helpers.test_clocks.retrieve(clock_id)
        if clock.status == "ready" or time.monotonic() > deadline:
            return clock
        requests.post(f"{server.url}/_sandbox/jobs/run", timeout=5)
        time.sleep(0.1)


def events_for(client: stripe.StripeClient, object_id: str, prefix: str) -> list[str]:
    events = client.v1.events.list(params={"type": f"{prefix}.*", "limit": 100})
    return [str(e.type) for e in events.data if e.data.object["id"] == object_id][::-1]


def test_create_retrieve_list(client: stripe.StripeClient) -> None:
    clock = client.v1.test_helpers.test_clocks.create(
        params={"frozen_time": FROZEN, "name": "Annual renewal"}
    )
    assert clock.id.startswith("clock_")
    assert clock.object == "test_helpers.test_clock"
    assert clock.frozen_time == FROZEN
    assert clock.name == "Annual renewal"
    assert clock.status == "ready"
    assert clock.status_details.to_dict() == {}
    assert clock.livemode is False
    assert clock.deletes_after == clock.created + 30 * DAY

    assert client.v1.test_helpers.test_clocks.retrieve(clock.id).to_dict() == clock.to_dict()
    listed = client.v1.test_helpers.test_clocks.list(params={"limit": 1})
    assert listed.data[0].id == clock.id
    assert events_for(client, clock.id, "test_helpers.test_clock") == [
        "test_helpers.test_clock.created"
    ]


def test_advance_goes_through_advancing_to_ready(
    client: stripe.StripeClient, sandbox_server: RunningServer
) -> None:
    clock = client.v1.test_helpers.test_clocks.create(params={"frozen_time": FROZEN})
    target = FROZEN + 31 * DAY

    advancing = client.v1.test_helpers.test_clocks.advance(
        clock.id, params={"frozen_time": target}
    )
    assert advancing.status == "advancing"
    assert advancing.frozen_time == FROZEN
    assert advancing.status_details.to_dict() == {"advancing": {"target_frozen_time": target}}

    ready = wait_until_ready(client, clock.id, sandbox_server)
    assert ready.status == "ready"
    assert ready.frozen_time == target
    assert ready.status_details.to_dict() == {}
    assert events_for(client, clock.id, "test_helpers.test_clock") == [
        "test_helpers.test_clock.created",
        "test_helpers.test_clock.advancing",
        "test_helpers.test_clock.ready",
    ]


def test_advance_must_move_forward(client: stripe.StripeClient) -> None:
    clock = client.v1.test_helpers.test_clocks.create(params={"frozen_time": FROZEN})
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.test_helpers.test_clocks.advance(clock.id, params={"frozen_time": FROZEN})
    assert raised.value.http_status == 400
    assert raised.value.param == "frozen_time"
    assert "must be after" in (raised.value.user_message or "")
    assert client.v1.test_helpers.test_clocks.retrieve(clock.id).status == "ready"


def test_advance_at_most_two_years_without_subscriptions(client: stripe.StripeClient) -> None:
    clock = client.v1.test_helpers.test_clocks.create(params={"frozen_time": FROZEN})
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.test_helpers.test_clocks.advance(
            clock.id, params={"frozen_time": FROZEN + 3 * 365 * DAY}
        )
    assert raised.value.param == "frozen_time"
    assert "two years" in (raised.value.user_message or "")


def test_frozen_time_is_required(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.test_helpers.test_clocks.create(params={"name": "no time"})  # type: ignore[typeddict-item]
    assert raised.value.code == "parameter_missing"
    assert raised.value.param == "frozen_time"
    assert raised.value.user_message == "Missing required param: frozen_time."


def test_customer_on_a_clock_lives_at_its_frozen_time(client: stripe.StripeClient) -> None:
    clock = client.v1.test_helpers.test_clocks.create(params={"frozen_time": FROZEN})
    customer = client.v1.customers.create(params={"test_clock": clock.id})
    assert customer.test_clock == clock.id
    assert customer.created == FROZEN


def test_customer_on_unknown_clock(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.customers.create(params={"test_clock": "clock_missing"})
    assert raised.value.http_status == 400
    assert raised.value.code == "resource_missing"
    assert raised.value.param == "test_clock"
    assert raised.value.user_message == "No such billingclock: 'clock_missing'"


def test_delete_removes_the_clock_and_its_customers(client: stripe.StripeClient) -> None:
    clock = client.v1.test_helpers.test_clocks.create(params={"frozen_time": FROZEN})
    customer = client.v1.customers.create(params={"test_clock": clock.id})

    deleted = client.v1.test_helpers.test_clocks.delete(clock.id)
    assert deleted.to_dict() == {
        "id": clock.id, "object": "test_helpers.test_clock", "deleted": True
    }
    assert client.v1.customers.retrieve(customer.id).deleted is True
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.test_helpers.test_clocks.retrieve(clock.id)
    assert raised.value.http_status == 404
    assert raised.value.code == "resource_missing"
    assert raised.value.user_message == f"No such billingclock: '{clock.id}'"
    assert events_for(client, clock.id, "test_helpers.test_clock")[-1] == (
        "test_helpers.test_clock.deleted"
    )
