"""Checkout Sessions through the official SDK over real HTTP, plus the two operations the
hosted checkout page calls (opening a session for payment and completing it), run
directly on a temporary store."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import stripe
from refusals import refusal  # type: ignore[import-not-found]

from harness.servers import RunningServer
from simulator.common.ids import IdGenerator
from simulator.sandbox import registrations
from simulator.sandbox.errors import InvalidRequestError
from simulator.sandbox.flows.checkout_expiry import expire_when_due
from simulator.sandbox.resources import checkout_session as sessions
from simulator.sandbox.resources import payment_intent as intents
from simulator.sandbox.resources.base import Ctx
from simulator.sandbox.resources.catalog_requests import PriceCreate, PriceData
from simulator.sandbox.resources.checkout_line_items import CheckoutLineItem
from simulator.sandbox.resources.checkout_options import PaymentIntentData
from simulator.sandbox.resources.checkout_session_requests import CheckoutSessionCreate
from simulator.sandbox.resources.event import EventLog
from simulator.sandbox.resources.payment_intent_requests import PaymentIntentCreate
from simulator.sandbox.resources.price import create_price
from simulator.sandbox.resources.product import ProductData
from simulator.sandbox.store import Store

SUCCESS_URL = "https://auction.example/paid?session_id={CHECKOUT_SESSION_ID}"
BASIL = "2025-03-31.basil"


@pytest.fixture
def price(client: stripe.StripeClient) -> stripe.Price:
    return client.v1.prices.create(
        params={"currency": "usd", "unit_amount": 64200,
                "product_data": {"name": "Lot 17: brass telescope"}}
    )


def _session(client: stripe.StripeClient, price: stripe.Price, **extra: Any
             ) -> stripe.checkout.Session:
    params: dict[str, Any] = {
        "mode": "payment",
        "line_items": [{"price": price.id, "quantity": 1}],
        "success_url": SUCCESS_URL,
        **extra,
    }
    return client.v1.checkout.sessions.create(params=params)  # type: ignore[arg-type]


def _refused(client: stripe.StripeClient, params: dict[str, Any],
             options: dict[str, Any] | None = None) -> dict[str, Any]:
    return refusal(lambda: client.v1.checkout.sessions.create(
        params=params, options=options or {}))  # type: ignore[arg-type]


def _sandbox_now(server: RunningServer) -> int:
    return int(requests.get(f"{server.url}/_sandbox/clock", timeout=10).json()["now"])


def _advance_clock(server: RunningServer, seconds: int) -> None:
    response = requests.post(f"{server.url}/_sandbox/clock/advance", data={"seconds": seconds},
                             timeout=30)
    response.raise_for_status()


# -- create and read --------------------------------------------------------------------
def test_create_payment_session(client: stripe.StripeClient, price: stripe.Price) -> None:
    session = client.v1.checkout.sessions.create(params={
        "mode": "payment",
        "line_items": [
            {"price": price.id, "quantity": 1},
            {"price_data": {"currency": "usd", "unit_amount": 1500,
                            "product_data": {"name": "Crating and insurance"}},
             "quantity": 2},
        ],
        "success_url": SUCCESS_URL,
        "cancel_url": "https://auction.example/lots/17",
        "client_reference_id": "order-17",
        "customer_email": "buyer@example.com",
        "metadata": {"lot": "17"},
        "payment_intent_data": {"capture_method": "manual", "metadata": {"lot": "17"}},
        "payment_method_options": {"card": {"request_three_d_secure": "any"}},
    })
    assert re.fullmatch(r"cs_test_[A-Za-z0-9]{58}", session.id)
    assert (session.status, session.payment_status, session.mode) == ("open", "unpaid", "payment")
    assert (session.amount_subtotal, session.amount_total) == (67200, 67200)
    assert session.currency == "usd"
    assert session.success_url == SUCCESS_URL
    assert session.url is not None and session.url.endswith(f"/c/pay/{session.id}")
    assert session.payment_intent is None
    assert session.customer_details is None
    assert session.customer_email == "buyer@example.com"
    assert session.customer_creation == "if_required"
    assert session.expires_at == session.created + 24 * 3600
    assert session.ui_mode == "hosted_page"
    assert session.payment_method_types == ["card"]
    assert session.payment_method_options is not None
    assert session.payment_method_options.card is not None
    assert session.payment_method_options.card.request_three_d_secure == "any"
    assert client.v1.checkout.sessions.retrieve(session.id).client_reference_id == "order-17"


def test_payment_intent_data_reaches_the_payment_made_at_checkout(
        client: stripe.StripeClient, price: stripe.Price, sandbox_server: RunningServer) -> None:
    shipping = {"name": "Ada Lovelace", "address": {"line1": "12 St James's Square",
                                                     "city": "London", "country": "GB"}}
    session = client.v1.checkout.sessions.create(params={
        "mode": "payment", "line_items": [{"price": price.id, "quantity": 1}],
        "success_url": SUCCESS_URL,
        "payment_intent_data": {"description": "Lot 17", "transfer_group": "auction-17",
                                "statement_descriptor_suffix": "LOT 17", "shipping": shipping,
                                "metadata": {"lot": "17"}},
    })

    paid = requests.post(f"{sandbox_server.url}/_sandbox/checkout/sessions/{session.id}/complete",
                         data={"payment_method": "pm_card_visa", "email": "ada@example.com"},
                         timeout=10)

    assert paid.status_code == 200, paid.text
    intent = client.v1.payment_intents.retrieve(paid.json()["payment_intent"]["id"])
    assert (intent.description, intent.transfer_group, intent.statement_descriptor_suffix,
            intent.receipt_email) == ("Lot 17", "auction-17", "LOT 17", "ada@example.com")
    assert intent.metadata.to_dict() == {"lot": "17"}
    assert intent.shipping is not None and intent.shipping.name == "Ada Lovelace"
    assert intent.shipping.address is not None and intent.shipping.address.city == "London"


def test_payment_intent_data_is_checked_as_a_payment_intent_would_be(
        client: stripe.StripeClient, price: stripe.Price) -> None:
    error = refusal(lambda: client.v1.checkout.sessions.create(params={
        "mode": "payment", "line_items": [{"price": price.id, "quantity": 1}],
        "success_url": SUCCESS_URL,
        "payment_intent_data": {"receipt_email": "a" * 790 + "@example.com"}}))
    assert error["param"] == "payment_intent_data[receipt_email]"


def test_line_items_embed_their_prices(client: stripe.StripeClient, price: stripe.Price) -> None:
    session = client.v1.checkout.sessions.create(params={
        "mode": "payment",
        "line_items": [
            {"price": price.id, "quantity": 2},
            {"price_data": {"currency": "usd", "unit_amount": 999,
                            "product_data": {"name": "Buyer's premium"}}, "quantity": 1},
        ],
    })
    items = client.v1.checkout.sessions.line_items.list(session.id)
    assert [(i.description, i.quantity, i.amount_subtotal, i.amount_total) for i in items.data] \
        == [("Lot 17: brass telescope", 2, 128400, 128400), ("Buyer's premium", 1, 999, 999)]
    assert items.data[0].price is not None and items.data[0].price.id == price.id
    inline = items.data[1].price
    assert inline is not None and inline.active is False and inline.unit_amount == 999

    first = client.v1.checkout.sessions.line_items.list(session.id, params={"limit": 1})
    assert first.has_more is True
    rest = client.v1.checkout.sessions.line_items.list(
        session.id, params={"starting_after": first.data[0].id}
    )
    assert [i.id for i in rest.data] == [items.data[1].id] and rest.has_more is False

    expanded = client.v1.checkout.sessions.retrieve(session.id, params={"expand": ["line_items"]})
    assert expanded.line_items is not None
    assert [i.id for i in expanded.line_items.data] == [i.id for i in items.data]
    with_product = client.v1.checkout.sessions.line_items.list(
        session.id, params={"expand": ["data.price.product"]}
    )
    product = with_product.data[0].price.product  # type: ignore[union-attr]
    assert isinstance(product, stripe.Product) and product.name == "Lot 17: brass telescope"


def test_list_sessions_by_customer_and_status(
    client: stripe.StripeClient, price: stripe.Price
) -> None:
    customer = client.v1.customers.create(params={"email": "lister@example.com"})
    first = _session(client, price, customer=customer.id)
    second = _session(client, price, customer=customer.id)
    client.v1.checkout.sessions.expire(first.id)
    listed = client.v1.checkout.sessions.list(params={"customer": customer.id})
    assert [s.id for s in listed.data] == [second.id, first.id]
    open_only = client.v1.checkout.sessions.list(params={"customer": customer.id, "status": "open"})
    assert [s.id for s in open_only.data] == [second.id]


def test_unknown_session_is_resource_missing(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.checkout.sessions.retrieve("cs_test_missing")
    assert raised.value.http_status == 404
    assert raised.value.code == "resource_missing"
    assert raised.value.user_message == "No such checkout.session: 'cs_test_missing'"


# -- refusals ---------------------------------------------------------------------------
def test_customer_and_customer_email_are_exclusive(
    client: stripe.StripeClient, price: stripe.Price
) -> None:
    customer = client.v1.customers.create(params={"email": "x@example.com"})
    params = {"mode": "payment", "line_items": [{"price": price.id, "quantity": 1}],
              "customer": customer.id, "customer_email": "x@example.com"}
    assert _refused(client, params) == {
        "code": None, "param": "customer_email",
        "message": "You may only specify one of these parameters: customer, customer_email.",
    }


def test_line_items_must_share_a_currency(client: stripe.StripeClient, price: stripe.Price) -> None:
    euro = {"price_data": {"currency": "eur", "unit_amount": 100, "product_data": {"name": "E"}},
            "quantity": 1}
    params = {"mode": "payment", "line_items": [{"price": price.id, "quantity": 1}, euro]}
    assert _refused(client, params) == {
        "code": None, "param": "line_items[1][price_data][currency]",
        "message": "The price specified supports currencies of `eur` which doesn't include the"
                   " expected currency of `usd`.",
    }


@pytest.mark.parametrize(
    ("offset", "message"),
    [
        (29 * 60, "The `expires_at` timestamp must be at least 30 minutes from Checkout Session"
                  " creation."),
        (25 * 3600, "The `expires_at` timestamp must be less than 24 hours from Checkout Session"
                    " creation."),
    ],
)
def test_expires_at_window(
    client: stripe.StripeClient, sandbox_server: RunningServer, price: stripe.Price,
    offset: int, message: str,
) -> None:
    params = {"mode": "payment", "line_items": [{"price": price.id, "quantity": 1}],
              "expires_at": _sandbox_now(sandbox_server) + offset}
    assert _refused(client, params) == {"code": None, "param": "expires_at", "message": message}


@pytest.mark.parametrize(
    ("line_item", "expected"),
    [
        ({"quantity": 1}, {
            "code": None, "param": "line_items[0][price]",
            "message": "You must provide either price or price_data for each line item when"
                       " using prices.",
        }),
        ({"price": "price_missing", "quantity": 1}, {
            "code": "resource_missing", "param": "line_items[0][price]",
            "message": "No such price: 'price_missing'",
        }),
        ({"price_data": {"currency": "usd", "unit_amount": 100, "product_data": {"name": "X"}}},
         {"code": "parameter_missing", "param": "line_items[0][quantity]",
          "message": "Quantity is required. Add `quantity` to `line_items[0]`"}),
    ],
)
def test_invalid_line_items(
    client: stripe.StripeClient, line_item: dict[str, Any], expected: dict[str, Any]
) -> None:
    assert _refused(client, {"mode": "payment", "line_items": [line_item]}) == expected


def test_inactive_and_recurring_prices_are_refused(client: stripe.StripeClient) -> None:
    archived = client.v1.prices.create(params={
        "currency": "usd", "unit_amount": 100, "product_data": {"name": "Old"}, "active": False})
    monthly = client.v1.prices.create(params={
        "currency": "usd", "unit_amount": 100, "product_data": {"name": "Club"},
        "recurring": {"interval": "month"}})
    assert _refused(client, {"mode": "payment",
                             "line_items": [{"price": archived.id, "quantity": 1}]}) == {
        "code": None, "param": "line_items[0][price]",
        "message": "The price specified is inactive. This field only accepts active prices.",
    }
    assert _refused(client, {"mode": "payment",
                             "line_items": [{"price": monthly.id, "quantity": 1}]}) == {
        "code": None, "param": "mode",
        "message": "You specified `payment` mode but passed a recurring price. Either switch to"
                   " `subscription` mode or use only one-time prices.",
    }


def test_payment_mode_needs_line_items_and_subscription_mode_is_refused(
        client: stripe.StripeClient) -> None:
    assert _refused(client, {"mode": "payment"}) == {
        "code": None, "param": "line_items",
        "message": "The `line_items` parameter is required in payment mode.",
    }
    refused = _refused(client, {"mode": "subscription"})
    assert refused["param"] == "mode"
    assert "`subscription` mode is not supported" in refused["message"]


# -- API versions -----------------------------------------------------------------------
def test_basil_names_ui_mode_hosted_and_takes_payment_method_types(
    client: stripe.StripeClient, price: stripe.Price
) -> None:
    # payment_method_types and ui_mode=hosted are basil's; the SDK's types are endive's.
    params: dict[str, Any] = {
        "mode": "payment", "line_items": [{"price": price.id, "quantity": 1}],
        "payment_method_types": ["card"], "ui_mode": "hosted",
    }
    session = client.v1.checkout.sessions.create(
        params=params, options={"stripe_version": BASIL}  # type: ignore[arg-type]
    )
    assert session.ui_mode == "hosted"
    assert session.payment_method_types == ["card"]
    assert client.v1.checkout.sessions.retrieve(session.id).ui_mode == "hosted_page"


def test_endive_refuses_payment_method_types(
    client: stripe.StripeClient, price: stripe.Price
) -> None:
    params: dict[str, Any] = {"mode": "payment",
                              "line_items": [{"price": price.id, "quantity": 1}],
                              "payment_method_types": ["card"]}
    refused = _refused(client, params)
    assert (refused["code"], refused["param"]) == ("parameter_unknown", "payment_method_types")
    assert refused["message"].startswith("Received unknown parameter: payment_method_types")
    del params["payment_method_types"]
    assert _refused(client, {**params, "ui_mode": "hosted"}) == {
        "code": None, "param": "ui_mode",
        "message": "Invalid ui_mode: must be one of elements, embedded_page, form, or hosted_page",
    }


# -- expiry -----------------------------------------------------------------------------
def test_expire_an_open_session(client: stripe.StripeClient, price: stripe.Price) -> None:
    session = _session(client, price)
    expired = client.v1.checkout.sessions.expire(session.id)
    assert (expired.status, expired.url) == ("expired", None)
    events = client.v1.events.list(params={"type": "checkout.session.expired", "limit": 10})
    assert session.id in [e.data.object["id"] for e in events.data]
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.checkout.sessions.expire(session.id)
    assert raised.value.user_message == (
        'Only Checkout Sessions with a status in ["open"] can be expired. This Checkout Session'
        " has a status of `expired`."
    )


def test_sessions_expire_at_expires_at(
    client: stripe.StripeClient, sandbox_server: RunningServer, price: stripe.Price
) -> None:
    short = _session(client, price, expires_at=_sandbox_now(sandbox_server) + 31 * 60)
    default = _session(client, price)
    _advance_clock(sandbox_server, 32 * 60)
    assert client.v1.checkout.sessions.retrieve(short.id).status == "expired"
    assert client.v1.checkout.sessions.retrieve(default.id).status == "open"
    _advance_clock(sandbox_server, 24 * 3600)
    assert client.v1.checkout.sessions.retrieve(default.id).status == "expired"
    events = client.v1.events.list(params={"type": "checkout.session.expired", "limit": 20})
    assert {short.id, default.id} <= {e.data.object["id"] for e in events.data}


# -- what the hosted page calls, on a temporary store ------------------------------------
@pytest.fixture
def ctx(tmp_path: Path) -> Iterator[Ctx]:
    registrations.register_everything()  # the sandbox's start-up, without an app
    store = Store(tmp_path / "sandbox.sqlite3")
    with store.transaction():
        yield Ctx(store=store, now=1_800_000_000, ids=IdGenerator(seed=7),
                  base_url="http://sandbox.test", sink=EventLog())
    store.close()


def _open_session(ctx: Ctx, payment_intent_data: PaymentIntentData | None = None
                  ) -> sessions.CheckoutSession:
    price = create_price(ctx, PriceCreate(ProductData("Lot 17"), PriceData("usd", "64200")))
    return sessions.create_checkout_session(ctx, CheckoutSessionCreate(
        mode="payment", line_items=(CheckoutLineItem(price.id, 1),),
        payment_intent_data=payment_intent_data))


def test_open_session_for_payment_refuses_sessions_past_expiry(ctx: Ctx) -> None:
    session = _open_session(ctx)
    assert sessions.open_session_for_payment(ctx, session.id).id == session.id
    ctx.now = session.expires_at
    with pytest.raises(InvalidRequestError) as raised:
        sessions.open_session_for_payment(ctx, session.id)
    assert raised.value.message.endswith("This Checkout Session has a status of `expired`.")


def test_mark_session_complete(ctx: Ctx) -> None:
    session = _open_session(ctx)
    sessions.attach_payment_intent(ctx, session, "pi_test_1")
    done = sessions.mark_session_complete(
        ctx, sessions.open_session_for_payment(ctx, session.id), None,
        {"email": "buyer@example.com", "name": "Ada Lovelace"},
    )
    assert (done.status, done.payment_status, done.payment_intent) == ("complete", "paid",
                                                                      "pi_test_1")
    rendered = done.serialize(ctx)
    assert rendered["url"] is None
    assert rendered["customer_details"]["email"] == "buyer@example.com"
    assert rendered["customer_details"]["tax_exempt"] == "none"
    assert ctx.events[-1]["type"] == "checkout.session.completed"
    by_email = ctx.store.page(sessions.CheckoutSession.OBJECT, limit=10, filters={
        "email": "buyer@example.com", "status": "complete"})
    assert [row.id for row in by_email.rows] == [session.id]
    with pytest.raises(InvalidRequestError):
        sessions.open_session_for_payment(ctx, session.id)


def test_manual_capture_completes_unpaid(ctx: Ctx) -> None:
    session = _open_session(ctx, PaymentIntentData(capture_method="manual"))
    done = sessions.mark_session_complete(ctx, session, "pi_test_2", {})
    assert done.payment_status == "unpaid"


def test_expiry_cancels_the_sessions_payment_intent(ctx: Ctx) -> None:
    session = _open_session(ctx)
    intent = intents.create_payment_intent(ctx, PaymentIntentCreate(64200, "usd"))
    sessions.attach_payment_intent(ctx, session, intent.id)
    ctx.now = session.expires_at
    expire_when_due(ctx, session.id)
    assert sessions.retrieve_checkout_session(ctx, session.id).status == "expired"
    canceled = intents.retrieve_payment_intent(ctx, intent.id)
    assert (canceled.status, canceled.cancellation_reason) == ("canceled", "abandoned")
    assert [e["type"] for e in ctx.events[-2:]] == ["payment_intent.canceled",
                                                     "checkout.session.expired"]
