"""Customers through the official SDK over real HTTP."""

from __future__ import annotations

import pytest
import stripe


def test_create_retrieve_update_delete(client: stripe.StripeClient) -> None:
    created = client.v1.customers.create(
        params={"email": "ada@example.com", "name": "Ada", "metadata": {"tier": "gold"}}
    )
    assert created.id.startswith("cus_")
    assert created.email == "ada@example.com"
    assert created.metadata["tier"] == "gold"

    fetched = client.v1.customers.retrieve(created.id)
    assert fetched.name == "Ada"

    updated = client.v1.customers.update(
        created.id, params={"name": "Ada Lovelace", "metadata": {"tier": "", "vip": "yes"}}
    )
    assert updated.name == "Ada Lovelace"
    assert updated.metadata.to_dict() == {"vip": "yes"}

    deleted = client.v1.customers.delete(created.id)
    assert deleted.deleted is True
    assert client.v1.customers.retrieve(created.id).deleted is True


def test_unknown_customer_is_resource_missing(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.customers.retrieve("cus_doesnotexist")
    error = raised.value
    assert error.http_status == 404
    assert error.code == "resource_missing"
    assert error.param == "id"
    assert error.user_message == "No such customer: 'cus_doesnotexist'"


def test_unknown_parameter(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.customers.create(params={"emial": "x@example.com"})  # type: ignore[typeddict-unknown-key]
    assert raised.value.code == "parameter_unknown"
    assert raised.value.param == "emial"
    assert raised.value.user_message == "Received unknown parameter: emial. Did you mean email?"


def test_list_paginates_newest_first(client: stripe.StripeClient) -> None:
    email = "pager@example.com"
    ids = [client.v1.customers.create(params={"email": email}).id for _ in range(5)]
    page = client.v1.customers.list(params={"email": email, "limit": 2})
    assert [c.id for c in page.data] == ids[::-1][:2]
    assert page.has_more is True
    rest = client.v1.customers.list(params={"email": email, "starting_after": page.data[-1].id})
    assert [c.id for c in rest.data] == ids[::-1][2:]
    assert rest.has_more is False
