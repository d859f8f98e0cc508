"""A customer's card sources through the official SDK (https://docs.stripe.com/api/cards):
``source=tok_…`` on customers, ``/v1/customers/{id}/sources`` and the default card."""

from __future__ import annotations

from typing import Any

import pytest
import stripe


def events_for(client: stripe.StripeClient, event_type: str, object_id: str) -> list[str]:
    listed = client.v1.events.list(params={"type": event_type, "limit": 100}).data
    return [e.id for e in listed if e.data.object["id"] == object_id]


def test_a_customer_made_with_a_token_gets_a_default_card(client: stripe.StripeClient) -> None:
    customer = client.v1.customers.create(params={"email": "lot17@example.com",
                                                  "source": "tok_visa"})
    assert isinstance(customer.default_source, str)
    assert customer.default_source.startswith("card_")
    card = client.v1.customers.payment_sources.retrieve(customer.id, customer.default_source)
    assert isinstance(card, stripe.Card)
    assert (card.brand, card.last4, card.funding, card.customer) == (
        "Visa", "4242", "credit", customer.id)
    assert card.cvc_check == "pass"
    assert events_for(client, "customer.source.created", card.id)


def test_more_cards_leave_the_default_alone(client: stripe.StripeClient) -> None:
    customer = client.v1.customers.create(params={"source": "tok_visa"})
    added = client.v1.customers.payment_sources.create(
        customer.id, params={"source": "tok_mastercard", "metadata": {"lot": "17"}})
    assert isinstance(added, stripe.Card)
    assert (added.brand, added.last4, added.to_dict()["metadata"]) == (
        "MasterCard", "4444", {"lot": "17"})
    assert client.v1.customers.retrieve(customer.id).default_source == customer.default_source
    listed = client.v1.customers.payment_sources.list(customer.id, params={"object": "card"})
    assert [c.id for c in listed.data] == [added.id, customer.default_source]
    assert listed.url == f"/v1/customers/{customer.id}/sources"
    none = client.v1.customers.payment_sources.list(customer.id,
                                                    params={"object": "bank_account"})
    assert none.data == []


def test_sources_expand_on_the_customer(client: stripe.StripeClient) -> None:
    customer = client.v1.customers.create(params={"source": "tok_amex"})
    expanded = client.v1.customers.retrieve(
        customer.id, params={"expand": ["sources", "default_source"]})
    assert expanded.default_source.brand == "American Express"  # type: ignore[union-attr]
    assert [s.id for s in expanded.sources.data] == [  # type: ignore[union-attr]
        expanded.default_source.id]  # type: ignore[union-attr]


def test_updating_a_card_emits_customer_source_updated(client: stripe.StripeClient) -> None:
    customer = client.v1.customers.create(params={"source": "tok_visa"})
    assert isinstance(customer.default_source, str)
    card = client.v1.customers.payment_sources.update(
        customer.id, customer.default_source,
        params={"name": "Jenny Rosen", "address_zip": "94103", "exp_year": "2031",
                "metadata": {"paddle": "42"}})
    assert isinstance(card, stripe.Card)
    assert (card.name, card.address_zip, card.exp_year) == ("Jenny Rosen", "94103", 2031)
    assert card.address_zip_check == "pass"
    assert events_for(client, "customer.source.updated", card.id)


def test_deleting_the_default_makes_the_newest_card_default(
        client: stripe.StripeClient) -> None:
    customer = client.v1.customers.create(params={"source": "tok_visa"})
    first = customer.default_source
    assert isinstance(first, str)
    second = client.v1.customers.payment_sources.create(customer.id,
                                                        params={"source": "tok_discover"})
    deleted = client.v1.customers.payment_sources.delete(customer.id, first)
    assert (deleted.id, deleted.to_dict()["deleted"]) == (first, True)
    assert client.v1.customers.retrieve(customer.id).default_source == second.id
    client.v1.customers.payment_sources.delete(customer.id, second.id)
    assert client.v1.customers.retrieve(customer.id).default_source is None
    assert events_for(client, "customer.source.deleted", first)


def test_deleting_a_source_twice_is_refused(client: stripe.StripeClient) -> None:
    customer = client.v1.customers.create(params={"source": "tok_visa"})
    assert isinstance(customer.default_source, str)
    client.v1.customers.payment_sources.delete(customer.id, customer.default_source)
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.customers.payment_sources.delete(customer.id, customer.default_source)
    assert raised.value.http_status == 404
    assert raised.value.code == "resource_missing"
    assert raised.value.user_message == f"No such source: '{customer.default_source}'"


def test_another_customers_card_is_not_found(client: stripe.StripeClient) -> None:
    owner = client.v1.customers.create(params={"source": "tok_visa"})
    other = client.v1.customers.create()
    assert isinstance(owner.default_source, str)
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.customers.payment_sources.retrieve(other.id, owner.default_source)
    assert raised.value.http_status == 404


def test_a_declining_card_cannot_be_saved(client: stripe.StripeClient) -> None:
    email = "declined-source@example.com"
    with pytest.raises(stripe.CardError) as raised:
        client.v1.customers.create(params={"email": email, "source": "tok_chargeDeclined"})
    assert (raised.value.code, raised.value.error.decline_code) == (  # type: ignore[union-attr]
        "card_declined", "generic_decline")
    assert raised.value.user_message == "Your card was declined."
    assert client.v1.customers.list(params={"email": email}).data == []
    customer = client.v1.customers.create()
    with pytest.raises(stripe.CardError) as again:
        client.v1.customers.payment_sources.create(
            customer.id, params={"source": "tok_chargeDeclinedInsufficientFunds"})
    assert again.value.error.decline_code == "insufficient_funds"  # type: ignore[union-attr]


def test_an_unknown_token_is_refused(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.customers.create(params={"source": "tok_no_such_card"})
    assert (raised.value.http_status, raised.value.code, raised.value.param) == (
        400, "resource_missing", "source")
    assert raised.value.user_message == "No such token: 'tok_no_such_card'"


def test_source_on_update_replaces_the_default_card(client: stripe.StripeClient) -> None:
    customer = client.v1.customers.create(params={"source": "tok_visa"})
    old = customer.default_source
    updated = client.v1.customers.update(customer.id, params={"source": "tok_mastercard"})
    assert updated.default_source not in (None, old)
    listed = client.v1.customers.payment_sources.list(customer.id)
    assert [c.id for c in listed.data] == [updated.default_source]


def test_default_source_must_be_the_customers_card(client: stripe.StripeClient) -> None:
    customer = client.v1.customers.create(params={"source": "tok_visa"})
    second = client.v1.customers.payment_sources.create(customer.id,
                                                        params={"source": "tok_mastercard"})
    moved = client.v1.customers.update(customer.id, params={"default_source": second.id})
    assert moved.default_source == second.id
    stranger = client.v1.customers.create(params={"source": "tok_visa"})
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.customers.update(customer.id,
                                   params={"default_source": str(stranger.default_source)})
    assert (raised.value.code, raised.value.param) == ("resource_missing", "default_source")


def test_a_saved_card_pays_a_payment_intent(client: stripe.StripeClient) -> None:
    """Stripe takes "a PaymentMethod, Card, or compatible Source" as ``payment_method``."""
    customer = client.v1.customers.create(params={"source": "tok_visa"})
    card_id = str(customer.default_source)
    intent = client.v1.payment_intents.create(params={
        "amount": 64200, "currency": "usd", "customer": customer.id,
        "payment_method": card_id,
        "automatic_payment_methods": {"enabled": True, "allow_redirects": "never"}})
    paid = client.v1.payment_intents.confirm(intent.id)
    assert (paid.status, paid.payment_method) == ("succeeded", card_id)
    assert isinstance(paid.latest_charge, str)
    assert client.v1.charges.retrieve(paid.latest_charge).payment_method == card_id
    assert client.v1.payment_methods.retrieve(card_id).card.last4 == "4242"  # type: ignore[union-attr]
    assert client.v1.customers.payment_sources.retrieve(customer.id, card_id).id == card_id


def test_a_saved_card_needs_its_customer(client: stripe.StripeClient) -> None:
    customer = client.v1.customers.create(params={"source": "tok_chargeCustomerFail"})
    card_id = str(customer.default_source)
    params: Any = {
        "amount": 64200, "currency": "usd", "payment_method": card_id, "confirm": True,
        "automatic_payment_methods": {"enabled": True, "allow_redirects": "never"}}
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.payment_intents.create(params=params)
    assert raised.value.param == "payment_method"
    with pytest.raises(stripe.CardError) as declined:
        with_customer: Any = {**params, "customer": customer.id}
        client.v1.payment_intents.create(params=with_customer)
    assert declined.value.code == "card_declined"
