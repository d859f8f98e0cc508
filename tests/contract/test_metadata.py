"""Metadata (https://docs.stripe.com/api/metadata): up to 50 keys, keys up to 40
characters, values up to 500; an empty value removes a key, an empty hash clears all."""

from __future__ import annotations

from typing import Any

import pytest
import stripe


def metadata_of(customer: stripe.Customer) -> dict[str, str]:
    assert customer.metadata is not None
    return dict(customer.metadata.to_dict())


def test_fifty_keys_are_accepted(client: stripe.StripeClient) -> None:
    metadata = {f"key{n:02d}": f"value {n}" for n in range(50)}
    customer = client.v1.customers.create(params={"metadata": metadata})
    assert metadata_of(customer) == metadata
    assert metadata_of(client.v1.customers.retrieve(customer.id)) == metadata


def test_fifty_one_keys_are_refused(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.customers.create(params={"metadata": {f"k{n}": "v" for n in range(51)}})
    assert raised.value.http_status == 400
    assert raised.value.param == "metadata"
    assert (raised.value.user_message or "").startswith("Metadata can have up to 50 keys")


def test_update_past_fifty_keys_is_refused(client: stripe.StripeClient) -> None:
    customer = client.v1.customers.create(
        params={"metadata": {f"k{n}": "v" for n in range(49)}}
    )
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.customers.update(customer.id, params={"metadata": {"extra1": "a", "extra2": "b"}})
    assert (raised.value.user_message or "").startswith("Metadata can have up to 50 keys")
    # Replacing one key with another in the same update stays within the limit.
    updated = client.v1.customers.update(customer.id,
                                         params={"metadata": {"k0": "", "extra1": "a"}})
    assert set(metadata_of(updated)) == {f"k{n}" for n in range(1, 49)} | {"extra1"}


def test_forty_character_key_is_accepted_forty_one_refused(client: stripe.StripeClient) -> None:
    ok = client.v1.customers.create(params={"metadata": {"k" * 40: "fine"}})
    assert metadata_of(ok)["k" * 40] == "fine"
    long_key = "k" * 41
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.customers.create(params={"metadata": {long_key: "too long"}})
    assert raised.value.http_status == 400
    assert (raised.value.param or "").startswith("metadata")
    assert (raised.value.user_message or "").startswith(
        "Metadata keys can have up to 40 characters, but you passed in a key that is 41"
        " characters."
    )


def test_five_hundred_character_value_is_accepted_501_refused(
    client: stripe.StripeClient,
) -> None:
    ok = client.v1.customers.create(params={"metadata": {"note": "v" * 500}})
    assert len(metadata_of(ok)["note"]) == 500
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.customers.create(params={"metadata": {"note": "v" * 501}})
    assert raised.value.http_status == 400
    assert raised.value.param == "metadata[note]"
    assert (raised.value.user_message or "").startswith(
        "Metadata values can have up to 500 characters, but you passed in a value that is 501"
        " characters."
    )


def test_empty_value_removes_a_key(client: stripe.StripeClient) -> None:
    customer = client.v1.customers.create(params={"metadata": {"lot": "17", "paddle": "42"}})
    updated = client.v1.customers.update(customer.id, params={"metadata": {"lot": ""}})
    assert metadata_of(updated) == {"paddle": "42"}


def test_empty_metadata_clears_all(client: stripe.StripeClient) -> None:
    customer = client.v1.customers.create(params={"metadata": {"lot": "17", "paddle": "42"}})
    updated = client.v1.customers.update(customer.id, params={"metadata": ""})
    assert metadata_of(updated) == {}


def test_nested_metadata_value_is_refused(client: stripe.StripeClient) -> None:
    nested: Any = {"metadata": {"lot": {"number": "17"}}}
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.customers.create(params=nested)
    assert raised.value.http_status == 400
    assert raised.value.param == "metadata[lot]"
