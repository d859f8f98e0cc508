"""Every object the sandbox returns has the fields the pinned SDK's class for it declares.

Each object is made through the official SDK and its raw JSON compared with the SDK's
resource class of the same ``object`` name (:mod:`simulator.sandbox.sdk_reference`, read
from the class annotations): every declared field must be present, each value must have
a JSON type the annotation allows (``null`` only where it is Optional), an enum value must
be one the SDK's ``Literal`` lists, and nested objects the SDK describes are checked the
same way. Extra fields are allowed.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
import stripe

from simulator.sandbox.sdk_reference import Kind, json_type, object_kind

HOOK_URL = "http://127.0.0.1:9/hooks/stripe"

_EXPANDED = "returned only when expanded"
_CONNECT = "sent only for cards that are a Connect account's external accounts"
# Top-level fields the SDK declares that Stripe leaves out of an ordinary response, and why.
# (``deleted`` is left out of every live object, and a field named after one of the values
# of the object's ``type`` enum appears only for that type: both are handled by rule.)
CONDITIONAL: dict[str, dict[str, str]] = {
    "card": {"account": _CONNECT, "available_payout_methods": _CONNECT,
             "currency": _CONNECT, "default_for_currency": _CONNECT, "status": _CONNECT},
    "charge": {
        "refunds": "not returned unless expanded since API version 2022-11-15",
        "level3": "sent only when level 3 data was given",
        "radar_options": "sent only when radar_options were given",
        "transfer": "sent only for destination charges",
        "presentment_details": "sent only when Adaptive Pricing converted the currency",
    },
    "payment_intent": {
        "managed_payments": "sent only to accounts using Managed Payments (merchant of record)",
        "presentment_details": "sent only when Adaptive Pricing converted the currency",
        "hooks": "sent only when hooks were given",
        "payment_details": "sent only when payment_details were given",
    },
    "checkout.session": {
        "managed_payments": "sent only to accounts using Managed Payments (merchant of record)",
        "line_items": _EXPANDED,
    },
    "customer": {"cash_balance": _EXPANDED, "invoice_credit_balance": _EXPANDED,
                 "sources": _EXPANDED, "subscriptions": _EXPANDED, "tax": _EXPANDED,
                 "tax_ids": _EXPANDED,
                 "customer_account": "sent only to accounts using Accounts v2"},
    "price": {"currency_options": _EXPANDED, "tiers": _EXPANDED},
    "refund": {"presentment_details": "sent only when Adaptive Pricing converted the currency",
               "next_action": "sent only for refunds that need the customer's action",
               "failure_reason": "sent only for failed refunds",
               "failure_balance_transaction": "sent only for failed refunds",
               "instructions_email": "sent only for refunds to a customer's email",
               "pending_reason": "sent only for pending refunds"},
    "token": {"bank_account": "sent only for bank account tokens"},
    "coupon": {"applies_to": _EXPANDED, "currency_options": _EXPANDED},
    "event": {"account": "sent only for events of connected accounts",
              "context": "sent only for events of connected accounts (v2 context)"},
    "webhook_endpoint": {"secret": "sent only in the answer that creates the endpoint"},
    "payment_method": {"radar_options": "sent only when radar_options were given"},
}
# Fields the SDK declares that the sandbox does not send yet: each is asserted still missing
# (test_known_gaps_are_still_missing), so the list shrinks as the sandbox catches up.
GAPS: dict[str, set[str]] = {
    "card": {"description", "iin", "issuer"},
    "charge": {"authorization_code"},
    "customer": {"business_name", "individual_name"},
    "item": {"discounts", "taxes"},
    "payment_intent": {"payment_record"},
    "refund": {"description"},
}


def omitted_by_rule(kind: Kind, field: str, ours: dict[str, Any]) -> bool:
    """``deleted`` (only on deleted objects) and fields named after a ``type`` the object
    is not (``payment_method.sepa_debit`` on a card payment method)."""
    kinds = kind.fields or {}
    return field == "deleted" or (field in kinds.get("type", Kind()).enum
                                  and ours.get("type") != field)


def raw(obj: stripe.StripeObject) -> dict[str, Any]:
    """The JSON the sandbox sent, not the SDK's view of it."""
    assert obj.last_response is not None
    data: dict[str, Any] = json.loads(obj.last_response.body)
    return data


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


def make_setup_checkout_session(client: stripe.StripeClient) -> dict[str, Any]:
    return raw(client.v1.checkout.sessions.create(params={
        "mode": "setup", "currency": "usd", "success_url": "https://shop.example.com/saved"}))


def make_coupon(client: stripe.StripeClient) -> dict[str, Any]:
    return raw(client.v1.coupons.create(params={"percent_off": 20, "duration": "once"}))


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


def _funded_customer(client: stripe.StripeClient) -> tuple[str, stripe.StripeObject]:
    customer = client.v1.customers.create()
    funded = client.v1.test_helpers.customers.fund_cash_balance(
        customer.id, params={"amount": 5000, "currency": "eur", "reference": "INV-7"})
    return customer.id, funded


def make_cash_balance(client: stripe.StripeClient) -> dict[str, Any]:
    return raw(client.v1.customers.cash_balance.retrieve(_funded_customer(client)[0]))


def make_customer_cash_balance_transaction(client: stripe.StripeClient) -> dict[str, Any]:
    return raw(_funded_customer(client)[1])


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
    "coupon": make_coupon,
    "item": make_item,
    "event": make_event,
    "webhook_endpoint": make_webhook_endpoint,
    "test_helpers.test_clock": make_test_clock,
    "cash_balance": make_cash_balance,
    "customer_cash_balance_transaction": make_customer_cash_balance_transaction,
}


# -- the comparison -----------------------------------------------------------------------
def kind_differences(kind: Kind, value: Any, where: str) -> list[str]:
    """How one value's type departs from what the SDK declares (nested values too; the
    presence of nested fields is not required: most of them are per payment method)."""
    where = where.rstrip(".")
    if not kind.accepts(value):
        return [f"{where} is {json_type(value)}, the SDK declares {sorted(kind.types)}"]
    if isinstance(value, str) and not kind.open_enum and value not in kind.enum:
        return [f"{where} is {value!r}, not one of {sorted(kind.enum)}"]
    if isinstance(value, dict) and kind.fields:
        prefix = f"{where}." if where else ""
        return [p for field, inner in sorted(kind.fields.items()) if field in value
                for p in kind_differences(inner, value[field], f"{prefix}{field}")]
    if isinstance(value, list) and kind.items is not None:
        return [p for item in value for p in kind_differences(kind.items, item, f"{where}[]")]
    return []


def shape_differences(name: str, ours: dict[str, Any]) -> list[str]:
    kind = object_kind(name)
    excused = set(CONDITIONAL.get(name, {})) | GAPS.get(name, set())
    missing = [f"missing {field}" for field in sorted(kind.fields or {})
               if field not in ours and field not in excused
               and not omitted_by_rule(kind, field, ours)]
    return missing + kind_differences(kind, ours, "")


def test_charge_made_with_a_source_has_stripes_fields(client: stripe.StripeClient) -> None:
    ours = make_source_charge(client)
    assert shape_differences("charge", ours) == []
    assert shape_differences("card", ours["source"]) == []


def test_payment_intent_waiting_for_a_bank_transfer_has_stripes_fields(
        client: stripe.StripeClient) -> None:
    customer = client.v1.customers.create()
    intent = client.v1.payment_intents.create(params={
        "amount": 64200, "currency": "usd", "customer": customer.id, "confirm": True,
        "allowed_payment_method_types": ["customer_balance"],
        "payment_method_data": {"type": "customer_balance"},
        "payment_method_options": {"customer_balance": {
            "funding_type": "bank_transfer", "bank_transfer": {"type": "us_bank_transfer"}}}})
    ours = raw(intent)
    assert ours["next_action"]["type"] == "display_bank_transfer_instructions"
    assert shape_differences("payment_intent", ours) == []
    method = raw(client.v1.payment_methods.retrieve(ours["payment_method"]))
    assert shape_differences("payment_method", method) == []


@pytest.mark.parametrize("name", sorted(MAKERS))
def test_object_has_stripes_fields(client: stripe.StripeClient, name: str) -> None:
    ours = MAKERS[name](client)
    assert ours["object"] == name
    assert shape_differences(name, ours) == []


def test_a_setup_mode_session_has_stripes_fields(client: stripe.StripeClient) -> None:
    ours = make_setup_checkout_session(client)
    assert ours["amount_total"] is None and ours["setup_intent"].startswith("seti_")
    assert shape_differences("checkout.session", ours) == []


def test_every_allowed_omission_is_a_field_the_sdk_declares() -> None:
    for name, fields in CONDITIONAL.items():
        declared = object_kind(name).fields or {}
        assert {f.split(".")[0] for f in fields} <= set(declared), name


@pytest.mark.parametrize("name", sorted(GAPS))
def test_known_gaps_are_still_missing(client: stripe.StripeClient, name: str) -> None:
    ours = MAKERS[name](client)
    assert GAPS[name] <= set(object_kind(name).fields or {})
    sent = GAPS[name] & set(ours)
    assert not sent, f"the sandbox now sends {sorted(sent)}: remove them from GAPS"


def test_a_wrong_shape_is_reported() -> None:
    kind = object_kind("payment_intent")
    assert "missing amount" in shape_differences("payment_intent", {"object": "payment_intent"})
    card_pm = {"object": "payment_method", "type": "card"}
    assert "missing card" in shape_differences("payment_method", card_pm)
    assert "missing sepa_debit" not in shape_differences("payment_method", card_pm)
    assert any(p.startswith("object is 'charge'")  # a closed Literal
               for p in shape_differences("payment_intent", {"object": "charge"}))
    assert kind.fields is not None and "status" in kind.fields
    broken = {"amount": "64200", "object": "payment_intent"}
    problems = shape_differences("payment_intent", broken)
    assert any(p.startswith("amount is string") for p in problems)
