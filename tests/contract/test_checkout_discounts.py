"""A coupon on a Checkout Session through the official SDK over real HTTP: the discounted
amounts, the PaymentIntent for the discounted total, redemptions, and Stripe's refusals of
a coupon that cannot be used (https://docs.stripe.com/payments/checkout/discounts)."""

from __future__ import annotations

from typing import Any

import requests
import stripe
from refusals import refusal  # type: ignore[import-not-found]

from harness.servers import RunningServer


def session_with(client: stripe.StripeClient, *amounts: int, **extra: Any) -> Any:
    items = [{"quantity": 1, "price_data": {"currency": "usd", "unit_amount": amount,
                                            "product_data": {"name": f"Lot {index}"}}}
             for index, amount in enumerate(amounts, start=17)]
    return client.v1.checkout.sessions.create(params={  # type: ignore[arg-type]
        "mode": "payment", "success_url": "https://auction.example/paid",
        "line_items": items, **extra})


def complete(server: RunningServer, session_id: str) -> requests.Response:
    return requests.post(f"{server.url}/_sandbox/checkout/sessions/{session_id}/complete",
                         data={"payment_method": "pm_card_visa", "email": "ada@example.com"},
                         timeout=10)


def refused(client: stripe.StripeClient, *amounts: int, **extra: Any) -> dict[str, Any]:
    return refusal(lambda: session_with(client, *amounts, **extra))  # type: ignore[no-any-return]


def test_a_percent_off_coupon_discounts_the_session_and_its_payment(
        client: stripe.StripeClient, sandbox_server: RunningServer) -> None:
    coupon = client.v1.coupons.create(params={"percent_off": 25, "max_redemptions": 5})

    session = session_with(client, 60_000, 4_200, discounts=[{"coupon": coupon.id}])

    assert (session.amount_subtotal, session.amount_total) == (64_200, 48_150)
    assert session.total_details.amount_discount == 16_050
    assert [(d.coupon, d.promotion_code) for d in session.discounts] == [(coupon.id, None)]
    items = client.v1.checkout.sessions.line_items.list(session.id).data
    assert [(i.amount_subtotal, i.amount_discount, i.amount_total) for i in items] == \
        [(60_000, 15_000, 45_000), (4_200, 1_050, 3_150)]
    assert client.v1.coupons.retrieve(coupon.id).times_redeemed == 0

    paid = complete(sandbox_server, session.id)

    assert paid.status_code == 200, paid.text
    assert paid.json()["payment_intent"]["amount"] == 48_150
    assert client.v1.checkout.sessions.retrieve(session.id).amount_total == 48_150
    assert client.v1.coupons.retrieve(coupon.id).times_redeemed == 1


def test_an_amount_off_coupon_in_the_sessions_currency(client: stripe.StripeClient) -> None:
    coupon = client.v1.coupons.create(params={
        "amount_off": 2_000, "currency": "eur", "currency_options": {"usd": {"amount_off": 2_500}}})

    session = session_with(client, 64_200, discounts=[{"coupon": coupon.id}])

    assert (session.amount_total, session.total_details.amount_discount) == (61_700, 2_500)
    sterling = client.v1.coupons.create(params={"amount_off": 500, "currency": "gbp"})
    assert refused(client, 64_200, discounts=[{"coupon": sterling.id}]) == {
        "code": None, "param": "discounts[0][coupon]",
        "message": f"The coupon `{sterling.id}` has no `amount_off` in `usd`, the currency of"
                   " this Checkout Session."}


def test_a_coupon_for_some_products_discounts_only_their_items(
        client: stripe.StripeClient) -> None:
    lamp = client.v1.prices.create(params={"currency": "usd", "unit_amount": 10_000,
                                           "product_data": {"name": "Bronze lamp"}})
    coupon = client.v1.coupons.create(params={
        "percent_off": 50, "applies_to": {"products": [str(lamp.product)]}})

    session = client.v1.checkout.sessions.create(params={
        "mode": "payment", "discounts": [{"coupon": coupon.id}],
        "line_items": [{"price": lamp.id, "quantity": 1},
                       {"quantity": 1, "price_data": {"currency": "usd", "unit_amount": 3_000,
                                                      "product_data": {"name": "Crating"}}}]})

    assert (session.amount_subtotal, session.amount_total) == (13_000, 8_000)
    items = client.v1.checkout.sessions.line_items.list(session.id).data
    assert [i.amount_discount for i in items] == [5_000, 0]


def test_a_full_discount_completes_without_a_payment(client: stripe.StripeClient,
                                                    sandbox_server: RunningServer) -> None:
    coupon = client.v1.coupons.create(params={"percent_off": 100})
    session = session_with(client, 64_200, discounts=[{"coupon": coupon.id}])
    assert session.amount_total == 0

    done = complete(sandbox_server, session.id)

    assert done.status_code == 200, done.text
    assert done.json()["payment_intent"] is None
    finished = client.v1.checkout.sessions.retrieve(session.id)
    assert (finished.status, finished.payment_status, finished.payment_intent) == \
        ("complete", "no_payment_required", None)


def test_a_total_under_the_minimum_charge_is_refused(client: stripe.StripeClient) -> None:
    coupon = client.v1.coupons.create(params={"amount_off": 990, "currency": "usd"})
    assert refused(client, 1_000, discounts=[{"coupon": coupon.id}]) == {
        "code": None, "param": None,
        "message": "The Checkout Session's total amount due must add up to at least $0.50 usd"}


def test_unknown_and_deleted_coupons_are_missing(client: stripe.StripeClient) -> None:
    assert refused(client, 1_000, discounts=[{"coupon": "NOSUCHCOUPON"}]) == {
        "code": "resource_missing", "param": "discounts[0][coupon]",
        "message": "No such coupon: 'NOSUCHCOUPON'"}
    deleted = client.v1.coupons.create(params={"percent_off": 10})
    client.v1.coupons.delete(deleted.id)
    assert refused(client, 1_000, discounts=[{"coupon": deleted.id}])["code"] == \
        "resource_missing"
    assert refused(client, 1_000, discounts=[{"promotion_code": "promo_missing"}]) == {
        "code": "resource_missing", "param": "discounts[0][promotion_code]",
        "message": "No such promotion code: 'promo_missing'"}


def test_a_coupon_past_redeem_by_on_the_sandbox_clock_is_expired(
        client: stripe.StripeClient, sandbox_server: RunningServer) -> None:
    now = int(requests.get(f"{sandbox_server.url}/_sandbox/clock", timeout=10).json()["now"])
    coupon = client.v1.coupons.create(params={"percent_off": 10, "redeem_by": now + 3_600})
    assert session_with(client, 1_000, discounts=[{"coupon": coupon.id}]).amount_total == 900

    requests.post(f"{sandbox_server.url}/_sandbox/clock/advance", data={"seconds": 7_200},
                  timeout=30).raise_for_status()

    assert refused(client, 1_000, discounts=[{"coupon": coupon.id}]) == {
        "code": "coupon_expired", "param": "discounts[0][coupon]",
        "message": f"Coupon expired: {coupon.id}"}


def test_a_used_up_coupon_is_refused_at_creation_and_at_payment(
        client: stripe.StripeClient, sandbox_server: RunningServer) -> None:
    coupon = client.v1.coupons.create(params={"percent_off": 10, "max_redemptions": 1})
    first = session_with(client, 1_000, discounts=[{"coupon": coupon.id}])
    second = session_with(client, 1_000, discounts=[{"coupon": coupon.id}])

    assert complete(sandbox_server, first.id).status_code == 200

    used_up = client.v1.coupons.retrieve(coupon.id)
    assert (used_up.times_redeemed, used_up.valid) == (1, False)
    assert refused(client, 1_000, discounts=[{"coupon": coupon.id}])["code"] == "coupon_expired"
    late = complete(sandbox_server, second.id)
    assert late.status_code == 400
    assert late.json()["error"]["code"] == "coupon_expired"
    assert client.v1.checkout.sessions.retrieve(second.id).status == "open"
    assert client.v1.coupons.retrieve(coupon.id).times_redeemed == 1


def test_discounts_and_allow_promotion_codes_are_exclusive(client: stripe.StripeClient) -> None:
    coupon = client.v1.coupons.create(params={"percent_off": 10})
    for allow in (True, False):
        assert refused(client, 1_000, discounts=[{"coupon": coupon.id}],
                       allow_promotion_codes=allow) == {
            "code": None, "param": "discounts",
            "message": "You may only specify one of these parameters: allow_promotion_codes,"
                       " discounts."}


def test_the_hosted_page_shows_the_discount(client: stripe.StripeClient) -> None:
    coupon = client.v1.coupons.create(params={"percent_off": 25})
    session = session_with(client, 60_000, discounts=[{"coupon": coupon.id}])

    page = requests.get(str(session.url), timeout=10)

    assert page.status_code == 200
    assert "$600.00" in page.text and "&minus;$150.00" in page.text
    assert "Pay $450.00" in page.text
