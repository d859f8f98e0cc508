"""Coupons through the official SDK over real HTTP: create, retrieve, update, delete and
list, their events, and Stripe's refusals (https://docs.stripe.com/api/coupons)."""

from __future__ import annotations

from typing import Any

import pytest
import requests
import stripe
from refusals import refusal as refused  # type: ignore[import-not-found]

from harness.servers import RunningServer


def events_for(client: stripe.StripeClient, event_type: str, object_id: str) -> list[Any]:
    found = client.v1.events.list(params={"type": event_type, "limit": 100}).data
    return [e for e in found if e.data.object["id"] == object_id]


def sandbox_now(server: RunningServer) -> int:
    return int(requests.get(f"{server.url}/_sandbox/clock", timeout=10).json()["now"])


def test_a_percent_off_coupon_is_created_read_and_listed(client: stripe.StripeClient) -> None:
    coupon = client.v1.coupons.create(params={
        "percent_off": 12.5, "duration": "forever", "name": "Early bird",
        "max_redemptions": 3, "metadata": {"campaign": "spring"}})

    assert coupon.object == "coupon" and len(coupon.id) == 8
    assert (coupon.percent_off, coupon.amount_off, coupon.currency) == (12.5, None, None)
    assert (coupon.duration, coupon.duration_in_months) == ("forever", None)
    assert (coupon.max_redemptions, coupon.times_redeemed, coupon.valid) == (3, 0, True)
    assert coupon.name == "Early bird" and coupon.metadata["campaign"] == "spring"
    assert client.v1.coupons.retrieve(coupon.id).to_dict() == coupon.to_dict()
    newest = client.v1.coupons.list(params={"limit": 1})
    assert [c.id for c in newest.data] == [coupon.id]
    assert len(events_for(client, "coupon.created", coupon.id)) == 1


def test_an_amount_off_coupon_with_its_own_id_and_currency_options(
        client: stripe.StripeClient) -> None:
    coupon = client.v1.coupons.create(params={
        "id": "LOT17-FIVE", "amount_off": 500, "currency": "usd", "duration": "repeating",
        "duration_in_months": 3, "currency_options": {"eur": {"amount_off": 450}}})

    assert (coupon.id, coupon.amount_off, coupon.currency) == ("LOT17-FIVE", 500, "usd")
    assert (coupon.duration, coupon.duration_in_months, coupon.percent_off) == \
        ("repeating", 3, None)
    assert "currency_options" not in coupon  # sent only when expanded
    expanded = client.v1.coupons.retrieve(coupon.id, params={"expand": ["currency_options"]})
    assert expanded.currency_options is not None
    assert expanded.currency_options.to_dict() == {"usd": {"amount_off": 500},
                                                   "eur": {"amount_off": 450}}
    assert refused(lambda: client.v1.coupons.create(params={
        "id": "LOT17-FIVE", "percent_off": 5})) == {
        "code": "resource_already_exists", "param": "id", "message": "Coupon already exists."}


def test_applies_to_names_existing_products(client: stripe.StripeClient) -> None:
    product = client.v1.products.create(params={"name": "Lot 17: brass telescope"})
    coupon = client.v1.coupons.create(params={
        "percent_off": 10, "applies_to": {"products": [product.id]}})
    expanded = client.v1.coupons.retrieve(coupon.id, params={"expand": ["applies_to"]})
    assert expanded.applies_to is not None and expanded.applies_to.products == [product.id]
    assert refused(lambda: client.v1.coupons.create(params={
        "percent_off": 10, "applies_to": {"products": ["prod_missing"]}})) == {
        "code": "resource_missing", "param": "applies_to[products][0]",
        "message": "No such product: 'prod_missing'"}


def test_update_changes_name_and_metadata_only(client: stripe.StripeClient) -> None:
    coupon = client.v1.coupons.create(params={"percent_off": 20, "name": "Spring"})

    updated = client.v1.coupons.update(coupon.id, params={
        "name": "Spring sale", "metadata": {"foo": "bar"}})

    assert (updated.name, updated.metadata["foo"], updated.percent_off) == \
        ("Spring sale", "bar", 20)
    [event] = events_for(client, "coupon.updated", coupon.id)
    assert event.data.previous_attributes["name"] == "Spring"
    change = {"percent_off": 30}
    assert refused(lambda: client.v1.coupons.update(
        coupon.id, params=change))["code"] == "parameter_unknown"  # type: ignore[arg-type]


def test_delete_removes_the_coupon(client: stripe.StripeClient) -> None:
    coupon = client.v1.coupons.create(params={"percent_off": 20})

    deleted = client.v1.coupons.delete(coupon.id)

    assert (deleted.id, deleted.deleted) == (coupon.id, True)
    [event] = events_for(client, "coupon.deleted", coupon.id)
    assert event.data.object["percent_off"] == 20
    gone = refused(lambda: client.v1.coupons.retrieve(coupon.id))
    assert gone["code"] == "resource_missing"
    assert gone["message"] == f"No such coupon: '{coupon.id}'"
    assert coupon.id not in [c.id for c in client.v1.coupons.list(params={"limit": 100}).data]


def test_valid_turns_false_once_redeem_by_passes(client: stripe.StripeClient,
                                                 sandbox_server: RunningServer) -> None:
    coupon = client.v1.coupons.create(params={
        "percent_off": 20, "redeem_by": sandbox_now(sandbox_server) + 3600})
    assert coupon.valid is True
    requests.post(f"{sandbox_server.url}/_sandbox/clock/advance", data={"seconds": 7200},
                  timeout=30).raise_for_status()
    assert client.v1.coupons.retrieve(coupon.id).valid is False


@pytest.mark.parametrize(("params", "expected"), [
    ({"percent_off": 10, "amount_off": 100, "currency": "usd"},
     {"code": None, "param": "percent_off",
      "message": "You may only specify one of these parameters: amount_off, percent_off."}),
    ({"duration": "once"},
     {"code": "parameter_missing", "param": "percent_off",
      "message": "You must specify either `percent_off` or `amount_off`."}),
    ({"amount_off": 100},
     {"code": "parameter_missing", "param": "currency",
      "message": "Missing required param: currency."}),
    ({"percent_off": 150},
     {"code": None, "param": "percent_off",
      "message": "Invalid percent_off: must be greater than 0 and less than or equal to 100."}),
    ({"percent_off": 10, "duration": "repeating"},
     {"code": "parameter_missing", "param": "duration_in_months",
      "message": "Missing required param: duration_in_months."}),
    ({"percent_off": 10, "redeem_by": 1_000_000_000},
     {"code": None, "param": "redeem_by", "message": "Invalid redeem_by: must be in the future."}),
])
def test_invalid_coupons_are_refused(client: stripe.StripeClient, params: dict[str, Any],
                                     expected: dict[str, Any]) -> None:
    assert refused(lambda: client.v1.coupons.create(params=params)) == expected  # type: ignore[arg-type]
