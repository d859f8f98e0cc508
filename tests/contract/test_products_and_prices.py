"""Products and Prices through the official SDK over real HTTP."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
import stripe


def _event_for(client: stripe.StripeClient, event_type: str, object_id: str) -> stripe.Event:
    events = client.v1.events.list(params={"type": event_type, "limit": 20})
    return next(e for e in events.data if e.data.object["id"] == object_id)


def _previous(event: stripe.Event) -> dict[str, Any]:
    attributes = event.data.previous_attributes
    assert attributes is not None
    return attributes.to_dict()


def _error(raised: pytest.ExceptionInfo[stripe.InvalidRequestError]) -> dict[str, Any]:
    error = raised.value
    return {"status": error.http_status, "code": error.code, "param": error.param,
            "message": error.user_message}


# -- products ---------------------------------------------------------------------------
def test_product_lifecycle_emits_events(client: stripe.StripeClient) -> None:
    product = client.v1.products.create(
        params={"name": "Lot 17: brass telescope", "description": "Victorian, working",
                "metadata": {"lot": "17"}, "shippable": True, "type": "good"}
    )
    assert product.id.startswith("prod_")
    assert (product.active, product.shippable, product.type) == (True, True, "good")
    assert product.default_price is None
    assert _event_for(client, "product.created", product.id).data.object["name"] == product.name

    updated = client.v1.products.update(
        product.id, params={"name": "Lot 17: telescope", "description": "", "metadata": {"lot": ""}}
    )
    assert (updated.name, updated.description) == ("Lot 17: telescope", None)
    assert updated.metadata.to_dict() == {}
    event = _event_for(client, "product.updated", product.id)
    assert _previous(event)["name"] == "Lot 17: brass telescope"

    deleted = client.v1.products.delete(product.id)
    assert deleted.deleted is True
    assert _event_for(client, "product.deleted", product.id).data.object["id"] == product.id
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.products.retrieve(product.id)
    assert _error(raised) == {"status": 404, "code": "resource_missing", "param": "id",
                              "message": f"No such product: '{product.id}'"}


def test_default_price_data_creates_the_default_price(client: stripe.StripeClient) -> None:
    product = client.v1.products.create(
        params={"name": "Catalogue", "default_price_data": {"currency": "eur", "unit_amount": 1250}}
    )
    fetched = client.v1.products.retrieve(product.id, params={"expand": ["default_price"]})
    price = fetched.default_price
    assert isinstance(price, stripe.Price)
    assert (price.product, price.currency, price.unit_amount) == (product.id, "eur", 1250)
    assert _event_for(client, "price.created", price.id).data.object["product"] == product.id


def test_product_with_prices_cannot_be_deleted(client: stripe.StripeClient) -> None:
    product = client.v1.products.create(params={"name": "Lot 18"})
    client.v1.prices.create(params={"product": product.id, "currency": "usd", "unit_amount": 500})
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.products.delete(product.id)
    assert _error(raised) == {
        "status": 400, "code": None, "param": None,
        "message": "This product cannot be deleted because it has one or more user-created"
                   " prices.",
    }
    archived = client.v1.products.update(product.id, params={"active": False})
    assert archived.active is False


def test_list_products_by_ids_and_active(client: stripe.StripeClient) -> None:
    first = client.v1.products.create(params={"name": "A"})
    second = client.v1.products.create(params={"name": "B", "active": False})
    listed = client.v1.products.list(params={"ids": [first.id, second.id]})
    assert [p.id for p in listed.data] == [second.id, first.id]
    active = client.v1.products.list(params={"ids": [first.id, second.id], "active": True})
    assert [p.id for p in active.data] == [first.id]
    recent = client.v1.products.list(params={"created": {"gte": first.created}, "active": False})
    assert second.id in [p.id for p in recent.data]
    assert first.id not in [p.id for p in recent.data]


def test_product_custom_id_must_be_free(client: stripe.StripeClient) -> None:
    product = client.v1.products.create(params={"name": "Named"})
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.products.create(params={"name": "Again", "id": product.id})
    assert _error(raised) == {"status": 400, "code": "resource_already_exists", "param": "id",
                              "message": "Product already exists."}


# -- prices -----------------------------------------------------------------------------
def test_create_one_time_and_recurring_prices(client: stripe.StripeClient) -> None:
    one_time = client.v1.prices.create(
        params={"currency": "usd", "unit_amount_decimal": Decimal("1999.5"),
                "product_data": {"name": "Buyer's premium"}, "nickname": "premium",
                "tax_behavior": "exclusive"}
    )
    assert (one_time.type, one_time.recurring, one_time.active) == ("one_time", None, True)
    assert (one_time.unit_amount, one_time.unit_amount_decimal) == (None, Decimal("1999.5"))
    assert isinstance(one_time.product, str)
    assert client.v1.products.retrieve(one_time.product).name == "Buyer's premium"

    monthly = client.v1.prices.create(
        params={"currency": "usd", "unit_amount": 900, "product": one_time.product,
                "recurring": {"interval": "month", "interval_count": 3}}
    )
    assert monthly.type == "recurring"
    assert monthly.recurring is not None
    assert (monthly.recurring.interval, monthly.recurring.interval_count) == ("month", 3)
    assert monthly.recurring.usage_type == "licensed"


@pytest.mark.parametrize(
    ("params", "param", "message", "code"),
    [
        ({"currency": "usd", "unit_amount": 100},
         "product", "Missing required param: product.", "parameter_missing"),
        ({"currency": "usd", "product": "prod_missing", "unit_amount": 100},
         "product", "No such product: 'prod_missing'", "resource_missing"),
        ({"currency": "usd", "product_data": {"name": "X"}, "unit_amount": 1,
          "unit_amount_decimal": "1"},
         "unit_amount",
         "You may only specify one of these parameters: unit_amount, unit_amount_decimal.", None),
        ({"currency": "usd", "product_data": {"name": "X"}, "unit_amount": -1},
         "unit_amount", "This value must be greater than or equal to 0.",
         "parameter_invalid_integer"),
        ({"currency": "usd", "product_data": {"name": "X", "url": "https://x.test/"},
          "unit_amount": 1},
         "product_data[url]", "Received unknown parameter: product_data[url]",
         "parameter_unknown"),
        ({"currency": "usd", "product_data": {"name": "X"}, "unit_amount": 1,
          "recurring": {"interval": "fortnight"}},
         "recurring[interval]", "Invalid recurring[interval]: must be one of day, week, month,"
         " or year", None),
    ],
)
def test_invalid_prices_are_refused(
    client: stripe.StripeClient, params: dict[str, Any], param: str, message: str, code: str | None
) -> None:
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.prices.create(params=params)  # type: ignore[arg-type]
    assert _error(raised) == {"status": 400, "code": code, "param": param, "message": message}


def test_update_price_emits_previous_attributes(client: stripe.StripeClient) -> None:
    price = client.v1.prices.create(
        params={"currency": "usd", "unit_amount": 700, "product_data": {"name": "Shipping"}}
    )
    updated = client.v1.prices.update(
        price.id, params={"active": False, "nickname": "legacy", "metadata": {"v": "1"}}
    )
    assert (updated.active, updated.nickname, updated.metadata["v"]) == (False, "legacy", "1")
    previous = _previous(_event_for(client, "price.updated", price.id))
    assert (previous["active"], previous["nickname"]) == (True, None)


def test_lookup_keys_are_unique_unless_transferred(client: stripe.StripeClient) -> None:
    product = client.v1.products.create(params={"name": "Membership"})
    key = f"membership-{product.id}"
    old = client.v1.prices.create(
        params={"currency": "usd", "unit_amount": 1000, "product": product.id, "lookup_key": key}
    )
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.prices.create(
            params={"currency": "usd", "unit_amount": 1200, "product": product.id,
                    "lookup_key": key}
        )
    assert _error(raised) == {"status": 400, "code": None, "param": "lookup_key",
                              "message": f"A price (`{old.id}`) already uses that lookup key."}
    new = client.v1.prices.create(
        params={"currency": "usd", "unit_amount": 1200, "product": product.id,
                "lookup_key": key, "transfer_lookup_key": True}
    )
    assert new.lookup_key == key
    assert client.v1.prices.retrieve(old.id).lookup_key is None
    found = client.v1.prices.list(params={"lookup_keys": [key, "no-such-key"]})
    assert [p.id for p in found.data] == [new.id]


def test_list_prices_filters(client: stripe.StripeClient) -> None:
    product = client.v1.products.create(params={"name": "Filters"})
    usd = client.v1.prices.create(
        params={"currency": "usd", "unit_amount": 100, "product": product.id}
    )
    eur = client.v1.prices.create(
        params={"currency": "eur", "unit_amount": 100, "product": product.id,
                "recurring": {"interval": "year"}}
    )
    archived = client.v1.prices.create(
        params={"currency": "usd", "unit_amount": 50, "product": product.id, "active": False}
    )

    def ids(**params: Any) -> list[str]:
        listed = client.v1.prices.list(params={"product": product.id, **params})  # type: ignore[arg-type]
        return [p.id for p in listed.data]

    assert ids() == [eur.id, usd.id]
    assert ids(active=False) == [archived.id]
    assert ids(currency="eur") == [eur.id]
    assert ids(type="one_time") == [usd.id]
    assert ids(limit=1) == [eur.id]
