"""Every object the sandbox returns has the fields Stripe's own example of it has.

Each object is made through the official SDK and its raw JSON compared with the object of
the same name in Stripe's fixtures (fixtures/stripe-openapi/fixtures3.json): every field
of the fixture must be present, and each non-null value must have the JSON type of the
fixture's non-null value. Extra fields are allowed; order is not checked (the fixtures
are alphabetical, Stripe's responses are not).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import stripe

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "stripe-openapi" / "fixtures3.json"
HOOK_URL = "http://127.0.0.1:9/hooks/stripe"

# Fields of a fixture that Stripe leaves out of an ordinary response, with why.
CONDITIONAL: dict[str, dict[str, str]] = {
    "charge": {
        "refunds": "not returned unless expanded since API version 2022-11-15",
    },
    "payment_intent": {
        "managed_payments": "sent only to accounts using Managed Payments (merchant of record)",
    },
    "checkout.session": {
        "managed_payments": "sent only to accounts using Managed Payments (merchant of record)",
    },
}


@cache
def fixtures() -> dict[str, dict[str, Any]]:
    resources: dict[str, dict[str, Any]] = json.loads(FIXTURES.read_text())["resources"]
    return resources


def raw(obj: stripe.StripeObject) -> dict[str, Any]:
    """The JSON the sandbox sent, not the SDK's view of it."""
    assert obj.last_response is not None
    data: dict[str, Any] = json.loads(obj.last_response.body)
    return data


def json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


# -- making one of each -------------------------------------------------------------------
def make_customer(client: stripe.StripeClient) -> dict[str, Any]:
    return raw(client.v1.customers.create(params={"email": "shape@example.com"}))


def make_product(client: stripe.StripeClient) -> dict[str, Any]:
    return raw(client.v1.products.create(params={"name": "Lot 17: oak sideboard"}))


def _price(client: stripe.StripeClient) -> stripe.Price:
    product = client.v1.products.create(params={"name": "Lot 18: brass lamp"})
    return client.v1.prices.create(
        params={"product": product.id, "unit_amount": 64200, "currency": "usd"}
    )


def make_price(client: stripe.StripeClient) -> dict[str, Any]:
    return raw(_price(client))


def make_payment_method(client: stripe.StripeClient) -> dict[str, Any]:
    return raw(client.v1.payment_methods.create(
        params={"type": "card", "card": {"token": "tok_visa"}}
    ))


def _paid_intent(client: stripe.StripeClient) -> stripe.PaymentIntent:
    return client.v1.payment_intents.create(
        params={
            "amount": 64200,
            "currency": "usd",
            "payment_method": "pm_card_visa",
            "confirm": True,
            "automatic_payment_methods": {"enabled": True, "allow_redirects": "never"},
        }
    )


def make_payment_intent(client: stripe.StripeClient) -> dict[str, Any]:
    return raw(_paid_intent(client))


def _charge(client: stripe.StripeClient) -> stripe.Charge:
    intent = _paid_intent(client)
    assert isinstance(intent.latest_charge, str)
    return client.v1.charges.retrieve(intent.latest_charge)


def make_charge(client: stripe.StripeClient) -> dict[str, Any]:
    return raw(_charge(client))


def make_refund(client: stripe.StripeClient) -> dict[str, Any]:
    intent = _paid_intent(client)
    return raw(client.v1.refunds.create(params={"payment_intent": intent.id}))


def make_balance_transaction(client: stripe.StripeClient) -> dict[str, Any]:
    charge = _charge(client)
    assert isinstance(charge.balance_transaction, str)
    return raw(client.v1.balance_transactions.retrieve(charge.balance_transaction))


def _session(client: stripe.StripeClient) -> stripe.checkout.Session:
    return client.v1.checkout.sessions.create(
        params={
            "mode": "payment",
            "line_items": [{"price": _price(client).id, "quantity": 1}],
            "success_url": "https://shop.example.com/thanks",
        }
    )


def make_checkout_session(client: stripe.StripeClient) -> dict[str, Any]:
    return raw(_session(client))


def make_item(client: stripe.StripeClient) -> dict[str, Any]:
    items = client.v1.checkout.sessions.line_items.list(_session(client).id)
    assert items.last_response is not None
    data: dict[str, Any] = json.loads(items.last_response.body)["data"][0]
    return data


def make_event(client: stripe.StripeClient) -> dict[str, Any]:
    customer = client.v1.customers.create()
    for event in client.v1.events.list(params={"type": "customer.created", "limit": 100}).data:
        if event.data.object["id"] == customer.id:
            return raw(client.v1.events.retrieve(event.id))
    raise AssertionError("the customer.created event is missing")


def make_webhook_endpoint(client: stripe.StripeClient) -> dict[str, Any]:
    endpoint = client.v1.webhook_endpoints.create(
        params={"url": HOOK_URL, "enabled_events": ["charge.succeeded"]}
    )
    try:
        return raw(client.v1.webhook_endpoints.retrieve(endpoint.id))
    finally:
        client.v1.webhook_endpoints.delete(endpoint.id)


def make_test_clock(client: stripe.StripeClient) -> dict[str, Any]:
    return raw(client.v1.test_helpers.test_clocks.create(params={"frozen_time": 1_577_836_800}))


def make_card(client: stripe.StripeClient) -> dict[str, Any]:
    customer = client.v1.customers.create()
    return raw(client.v1.customers.payment_sources.create(customer.id,
                                                          params={"source": "tok_visa"}))


def make_token(client: stripe.StripeClient) -> dict[str, Any]:
    return raw(client.v1.tokens.retrieve("tok_visa"))


def make_source_charge(client: stripe.StripeClient) -> dict[str, Any]:
    return raw(client.v1.charges.create(
        params={"amount": 64200, "currency": "usd", "source": "tok_visa"}))


MAKERS: dict[str, Callable[[stripe.StripeClient], dict[str, Any]]] = {
    "card": make_card,
    "token": make_token,
    "customer": make_customer,
    "product": make_product,
    "price": make_price,
    "payment_method": make_payment_method,
    "payment_intent": make_payment_intent,
    "charge": make_charge,
    "refund": make_refund,
    "balance_transaction": make_balance_transaction,
    "checkout.session": make_checkout_session,
    "item": make_item,
    "event": make_event,
    "webhook_endpoint": make_webhook_endpoint,
    "test_helpers.test_clock": make_test_clock,
}


# -- the comparison -----------------------------------------------------------------------
def shape_differences(name: str, ours: dict[str, Any]) -> list[str]:
    fixture = fixtures()[name]
    allowed = CONDITIONAL.get(name, {})
    problems = [f"missing {field}" for field in sorted(fixture)
                if field not in ours and field not in allowed]
    for field, expected in sorted(fixture.items()):
        value = ours.get(field)
        if value is None or expected is None or json_type(value) == json_type(expected):
            continue
        problems.append(f"{field} is {json_type(value)}, Stripe sends {json_type(expected)}")
    return problems


def test_charge_made_with_a_source_has_stripes_fields(client: stripe.StripeClient) -> None:
    ours = make_source_charge(client)
    assert shape_differences("charge", ours) == []
    assert shape_differences("card", ours["source"]) == []


@pytest.mark.parametrize("name", sorted(MAKERS))
def test_object_has_stripes_fields(client: stripe.StripeClient, name: str) -> None:
    ours = MAKERS[name](client)
    assert ours["object"] == name
    assert shape_differences(name, ours) == []


def test_every_allowed_omission_is_a_real_fixture_field() -> None:
    for name, fields in CONDITIONAL.items():
        assert set(fields) <= set(fixtures()[name]), name
