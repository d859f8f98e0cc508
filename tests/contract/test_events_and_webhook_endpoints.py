"""Events and webhook endpoints through the official SDK over real HTTP.

The sandbox is shared by the whole session, so every test works on objects it made
itself and removes the webhook endpoints it creates (they count in pending_webhooks).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pytest
import stripe
from stripe.params import EventListParams, EventListParamsCreated

# Nothing listens there: deliveries fail fast and the endpoints are deleted anyway.
HOOK_URL = "http://127.0.0.1:9/hooks/stripe"


@pytest.fixture
def endpoints(client: stripe.StripeClient) -> Iterator[list[str]]:
    """Ids of webhook endpoints a test creates; deleted when it ends."""
    created: list[str] = []
    yield created
    for endpoint_id in created:
        with contextlib.suppress(stripe.InvalidRequestError):  # the test deleted it itself
            client.v1.webhook_endpoints.delete(endpoint_id)


def event_about(client: stripe.StripeClient, event_type: str, object_id: str) -> stripe.Event:
    for event in client.v1.events.list(params={"type": event_type, "limit": 100}).data:
        if event.data.object["id"] == object_id:
            return event
    raise AssertionError(f"no {event_type} event for {object_id}")


# -- events -------------------------------------------------------------------------------
def test_customer_created_event_carries_the_object_and_request(
    client: stripe.StripeClient,
) -> None:
    customer = client.v1.customers.create(
        params={"email": "evt@example.com"}, options={"idempotency_key": "evt-create-1"}
    )
    event = event_about(client, "customer.created", customer.id)
    assert event.id.startswith("evt_")
    assert event.object == "event"
    assert event.livemode is False
    assert event.created >= customer.created
    assert event.data.object["email"] == "evt@example.com"
    assert "previous_attributes" not in event.data
    assert customer.last_response is not None
    assert event.request is not None
    assert event.request.id == customer.last_response.request_id
    assert event.request.idempotency_key == "evt-create-1"

    fetched = client.v1.events.retrieve(event.id)
    assert fetched.to_dict() == event.to_dict()


def test_customer_updated_event_has_previous_attributes(client: stripe.StripeClient) -> None:
    customer = client.v1.customers.create(params={"name": "Grace", "email": "g@example.com"})
    client.v1.customers.update(customer.id, params={"name": "Grace Hopper"})
    event = event_about(client, "customer.updated", customer.id)
    assert event.data.object["name"] == "Grace Hopper"
    assert event.data.previous_attributes is not None
    assert event.data.previous_attributes.to_dict() == {"name": "Grace"}


def test_unknown_event_is_resource_missing(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.events.retrieve("evt_missing")
    assert raised.value.http_status == 404
    assert raised.value.code == "resource_missing"
    assert raised.value.user_message == "No such event: 'evt_missing'"


def test_list_filters_by_type_types_and_wildcard(client: stripe.StripeClient) -> None:
    customer = client.v1.customers.create()
    client.v1.customers.update(customer.id, params={"name": "Filtered"})

    def types_of(params: EventListParams) -> set[str]:
        page = client.v1.events.list(params={**params, "limit": 100})
        return {e.type for e in page.data if e.data.object["id"] == customer.id}

    assert types_of({"type": "customer.created"}) == {"customer.created"}
    assert types_of({"type": "customer.*"}) == {"customer.created", "customer.updated"}
    assert types_of({"types": ["customer.updated", "charge.succeeded"]}) == {"customer.updated"}
    assert types_of({"type": "charge.*"}) == set()
    assert all(e.type.startswith("customer.") for e in
               client.v1.events.list(params={"type": "customer.*"}).data)


def test_type_and_types_are_exclusive(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.events.list(params={"type": "customer.created", "types": ["customer.updated"]})
    assert raised.value.http_status == 400
    assert raised.value.param == "types"


def test_list_filters_by_created(client: stripe.StripeClient) -> None:
    customer = client.v1.customers.create()
    event = event_about(client, "customer.created", customer.id)

    def ids(created: EventListParamsCreated) -> set[str]:
        page = client.v1.events.list(
            params={"type": "customer.created", "created": created, "limit": 100}
        )
        return {e.id for e in page.data}

    assert event.id in ids({"gte": event.created})
    assert event.id in ids({"lte": event.created})
    assert event.id not in ids({"gt": event.created})
    assert event.id not in ids({"lt": event.created})


def test_list_is_newest_first_and_paginates(client: stripe.StripeClient) -> None:
    customers = [client.v1.customers.create() for _ in range(3)]
    page = client.v1.events.list(params={"type": "customer.created", "limit": 3})
    assert [e.data.object["id"] for e in page.data] == [c.id for c in customers[::-1]]
    rest = client.v1.events.list(
        params={"type": "customer.created", "limit": 2, "ending_before": page.data[0].id}
    )
    assert rest.data == []


def test_pending_webhooks_counts_enabled_subscribed_endpoints(
    client: stripe.StripeClient, endpoints: list[str]
) -> None:
    def pending_for_new_customer() -> int:
        customer = client.v1.customers.create()
        return event_about(client, "customer.created", customer.id).pending_webhooks

    baseline = pending_for_new_customer()  # endpoints other tests may have left behind
    for events in (["*"], ["charge.succeeded"], ["*"]):
        endpoint = client.v1.webhook_endpoints.create(
            params={"url": HOOK_URL, "enabled_events": events}  # type: ignore[typeddict-item]
        )
        endpoints.append(endpoint.id)
    client.v1.webhook_endpoints.update(endpoints[2], params={"disabled": True})

    assert pending_for_new_customer() == baseline + 1


# -- webhook endpoints --------------------------------------------------------------------
def test_create_returns_the_secret_once(
    client: stripe.StripeClient, endpoints: list[str]
) -> None:
    endpoint = client.v1.webhook_endpoints.create(
        params={
            "url": HOOK_URL,
            "enabled_events": ["payment_intent.succeeded", "charge.refunded"],
            "description": "Orders service",
            "metadata": {"team": "payments"},
        }
    )
    endpoints.append(endpoint.id)
    assert endpoint.id.startswith("we_")
    assert endpoint.object == "webhook_endpoint"
    assert (endpoint.secret or "").startswith("whsec_")
    assert endpoint.status == "enabled"
    assert endpoint.url == HOOK_URL
    assert endpoint.enabled_events == ["payment_intent.succeeded", "charge.refunded"]
    assert endpoint.description == "Orders service"
    assert endpoint.metadata.to_dict() == {"team": "payments"}

    fetched = client.v1.webhook_endpoints.retrieve(endpoint.id)
    assert "secret" not in fetched
    assert fetched.url == HOOK_URL


def test_update_url_events_disabled_and_metadata(
    client: stripe.StripeClient, endpoints: list[str]
) -> None:
    endpoint = client.v1.webhook_endpoints.create(
        params={"url": HOOK_URL, "enabled_events": ["*"], "metadata": {"a": "1", "b": "2"}}
    )
    endpoints.append(endpoint.id)
    updated = client.v1.webhook_endpoints.update(
        endpoint.id,
        params={
            "url": "https://orders.example.com/stripe",
            "enabled_events": ["checkout.session.completed"],
            "disabled": True,
            "metadata": {"a": "", "c": "3"},
        },
    )
    assert updated.url == "https://orders.example.com/stripe"
    assert updated.enabled_events == ["checkout.session.completed"]
    assert updated.status == "disabled"
    assert updated.metadata.to_dict() == {"b": "2", "c": "3"}
    assert "secret" not in updated

    enabled = client.v1.webhook_endpoints.update(endpoint.id, params={"disabled": False})
    assert enabled.status == "enabled"


def test_delete_and_list(client: stripe.StripeClient, endpoints: list[str]) -> None:
    first = client.v1.webhook_endpoints.create(
        params={"url": HOOK_URL, "enabled_events": ["*"]}
    )
    second = client.v1.webhook_endpoints.create(
        params={"url": HOOK_URL, "enabled_events": ["*"]}
    )
    endpoints += [first.id, second.id]
    listed = client.v1.webhook_endpoints.list(params={"limit": 2})
    assert [e.id for e in listed.data] == [second.id, first.id]
    assert all("secret" not in e for e in listed.data)

    deleted = client.v1.webhook_endpoints.delete(first.id)
    assert deleted.to_dict() == {"id": first.id, "object": "webhook_endpoint", "deleted": True}
    remaining = client.v1.webhook_endpoints.list(params={"limit": 100})
    assert first.id not in {e.id for e in remaining.data}
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.webhook_endpoints.retrieve(first.id)
    assert raised.value.http_status == 404


def test_invalid_url(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.webhook_endpoints.create(
            params={"url": "not a url", "enabled_events": ["*"]}
        )
    assert raised.value.http_status == 400
    assert raised.value.code == "url_invalid"
    assert raised.value.param == "url"
    assert raised.value.user_message == "Invalid URL: not a url"


def test_enabled_events_is_required(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.webhook_endpoints.create(params={"url": HOOK_URL})  # type: ignore[typeddict-item]
    assert raised.value.code == "parameter_missing"
    assert raised.value.param == "enabled_events"


def test_unknown_endpoint_is_resource_missing(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.webhook_endpoints.retrieve("we_x")
    assert raised.value.http_status == 404
    assert raised.value.code == "resource_missing"
    assert raised.value.param == "id"
    assert raised.value.user_message == "No such webhook endpoint: 'we_x'"
