"""Card PaymentMethods through the official SDK: creation and its card errors, test ids,
attach/detach, update and lists."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

import pytest
import stripe

from harness.servers import RunningServer

VISA: Any = {"number": "4242424242424242", "exp_month": 12, "exp_year": 2040, "cvc": "123"}


def create_card(client: stripe.StripeClient, **card: Any) -> stripe.PaymentMethod:
    details: Any = {**VISA, **card}
    return client.v1.payment_methods.create(params={"type": "card", "card": details})


def event_types(client: stripe.StripeClient, object_id: str, pattern: str) -> list[str]:
    page = client.v1.events.list(params={"type": pattern, "limit": 100})
    return [e.type for e in reversed(page.data) if e.data.object.id == object_id]


def test_create_from_card_details(client: stripe.StripeClient) -> None:
    pm = client.v1.payment_methods.create(params={
        "type": "card",
        "card": VISA,
        "billing_details": {"name": "Ada Lovelace", "address": {"postal_code": "94103"}},
        "metadata": {"source": "test"},
    })
    assert pm.id.startswith("pm_") and pm.type == "card"
    card = pm.card
    assert card is not None
    assert (card.brand, card.last4, card.exp_month, card.exp_year) == ("visa", "4242", 12, 2040)
    assert (card.country, card.funding, card.display_brand) == ("US", "credit", "visa")
    assert card.networks is not None and card.networks.available == ["visa"]
    assert card.three_d_secure_usage is not None and card.three_d_secure_usage.supported
    assert card.checks is not None and card.checks.cvc_check == "unchecked"
    assert card.wallet is None
    assert pm.billing_details.name == "Ada Lovelace"
    assert pm.billing_details.address is not None
    assert pm.billing_details.address.postal_code == "94103"
    assert pm.customer is None and pm.metadata is not None
    assert pm.metadata["source"] == "test"


def test_fingerprint_identifies_the_number(client: stripe.StripeClient) -> None:
    first, second = create_card(client), create_card(client, exp_year=2041)
    other = create_card(client, number="5555555555554444")
    assert first.card is not None and second.card is not None and other.card is not None
    assert first.card.fingerprint == second.card.fingerprint
    assert first.card.fingerprint != other.card.fingerprint
    assert len(first.card.fingerprint or "") == 16


def test_card_number_and_cvc_are_never_stored(client: stripe.StripeClient,
                                              sandbox_server: RunningServer) -> None:
    pm = create_card(client, number="4000056655665556", cvc="987")
    with sqlite3.connect(sandbox_server.db_path) as db:
        row = db.execute("SELECT data FROM objects WHERE id = ?", (pm.id,)).fetchone()
    stored = json.loads(row[0])
    assert "4000056655665556" not in row[0]
    assert not {"number", "cvc"} & set(stored)
    assert "987" not in stored.values()
    assert stored["last4"] == "5556"


def test_debit_and_international_cards(client: stripe.StripeClient) -> None:
    debit = create_card(client, number="4000056655665556")
    assert debit.card is not None and debit.card.funding == "debit"
    amex = create_card(client, number="378282246310005", cvc="1234")
    assert amex.card is not None and amex.card.brand == "amex"
    assert amex.card.display_brand == "american_express"


@pytest.mark.parametrize(
    ("card", "code", "param", "message"),
    [
        ({"number": "4242424242424241"}, "incorrect_number", "number",
         "Your card number is incorrect."),
        ({"exp_year": 2020}, "invalid_expiry_year", "exp_year",
         "Your card's expiration year is invalid."),
        ({"exp_month": 13}, "invalid_expiry_month", "exp_month",
         "Your card's expiration month is invalid."),
        ({"cvc": "12"}, "invalid_cvc", "cvc", "Your card's security code is invalid."),
    ],
)
def test_invalid_card_details(client: stripe.StripeClient, card: dict[str, Any], code: str,
                              param: str, message: str) -> None:
    with pytest.raises(stripe.CardError) as raised:
        create_card(client, **card)
    assert (raised.value.code, raised.value.param, raised.value.user_message) == (
        code, param, message)
    assert raised.value.http_status == 402


def test_missing_card_number(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.payment_methods.create(
            params={"type": "card", "card": {"exp_month": 12, "exp_year": 2040}})
    assert raised.value.code == "parameter_missing"
    assert raised.value.param == "card[number]"


def test_card_from_a_test_token(client: stripe.StripeClient) -> None:
    pm = client.v1.payment_methods.create(params={"type": "card", "card": {"token": "tok_visa"}})
    assert pm.card is not None and pm.card.last4 == "4242"


def test_attach_a_test_id_creates_a_new_payment_method(client: stripe.StripeClient) -> None:
    customer = client.v1.customers.create(params={"email": "attach@example.com"})
    first = client.v1.payment_methods.attach("pm_card_visa", params={"customer": customer.id})
    second = client.v1.payment_methods.attach("pm_card_visa", params={"customer": customer.id})
    assert first.id != second.id
    assert first.customer == customer.id
    assert event_types(client, first.id, "payment_method.attached") == [
        "payment_method.attached"]
    listed = client.v1.customers.payment_methods.list(customer.id, params={"type": "card"})
    assert {pm.id for pm in listed.data} == {first.id, second.id}
    found = client.v1.payment_methods.list(params={"customer": customer.id})
    assert {pm.id for pm in found.data} == {first.id, second.id}
    assert client.v1.customers.payment_methods.retrieve(customer.id, first.id).id == first.id


def test_country_test_ids(client: stripe.StripeClient) -> None:
    customer = client.v1.customers.create(params={"email": "au@example.com"})
    pm = client.v1.payment_methods.attach("pm_card_au", params={"customer": customer.id})
    assert pm.card is not None and pm.card.country == "AU"


def test_unknown_test_id(client: stripe.StripeClient) -> None:
    customer = client.v1.customers.create(params={"email": "nope@example.com"})
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.payment_methods.attach("pm_card_x", params={"customer": customer.id})
    assert raised.value.code == "resource_missing"
    assert raised.value.user_message == "No such PaymentMethod: 'pm_card_x'"


def test_declining_cards_cannot_be_attached(client: stripe.StripeClient) -> None:
    customer = client.v1.customers.create(params={"email": "declined@example.com"})
    with pytest.raises(stripe.CardError) as raised:
        client.v1.payment_methods.attach(
            "pm_card_visa_chargeDeclined", params={"customer": customer.id})
    assert raised.value.code == "card_declined"
    assert raised.value.json_body["error"]["decline_code"] == "generic_decline"  # type: ignore[index]
    assert raised.value.user_message == "Your card was declined."
    attached = client.v1.payment_methods.attach(
        "pm_card_chargeCustomerFail", params={"customer": customer.id})
    assert attached.customer == customer.id


def test_detach(client: stripe.StripeClient) -> None:
    customer = client.v1.customers.create(params={"payment_method": "pm_card_visa"})
    pm = client.v1.customers.payment_methods.list(customer.id).data[0]
    client.v1.customers.update(
        customer.id, params={"invoice_settings": {"default_payment_method": pm.id}})
    detached = client.v1.payment_methods.detach(pm.id)
    assert detached.customer is None
    refreshed = client.v1.customers.retrieve(customer.id)
    assert refreshed.invoice_settings is not None
    assert refreshed.invoice_settings.default_payment_method is None
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.payment_methods.detach(pm.id)
    assert raised.value.user_message == (
        "The payment method you provided is not attached to a customer so detachment is"
        " impossible.")
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.payment_methods.attach(pm.id, params={"customer": customer.id})
    assert event_types(client, pm.id, "payment_method.*") == [
        "payment_method.attached", "payment_method.detached"]


def test_default_payment_method_must_be_attached(client: stripe.StripeClient) -> None:
    customer = client.v1.customers.create(params={"email": "default@example.com"})
    loose = create_card(client)
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.customers.update(
            customer.id, params={"invoice_settings": {"default_payment_method": loose.id}})
    assert raised.value.param == "invoice_settings[default_payment_method]"
    assert raised.value.user_message == (
        f"The customer does not have a payment method with the ID {loose.id}. The payment"
        " method must be attached to the customer.")


def test_update(client: stripe.StripeClient) -> None:
    customer = client.v1.customers.create(params={"email": "update@example.com"})
    pm = client.v1.payment_methods.attach(create_card(client).id,
                                          params={"customer": customer.id})
    updated = client.v1.payment_methods.update(pm.id, params={
        "billing_details": {"name": "Grace Hopper"},
        "card": {"exp_month": 6, "exp_year": 2042},
        "metadata": {"nickname": "work"},
    })
    assert updated.billing_details.name == "Grace Hopper"
    assert updated.card is not None and (updated.card.exp_month, updated.card.exp_year) == (6, 2042)
    assert updated.metadata is not None and updated.metadata["nickname"] == "work"
    assert event_types(client, pm.id, "payment_method.updated") == ["payment_method.updated"]


def test_update_needs_a_customer(client: stripe.StripeClient) -> None:
    pm = create_card(client)
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.payment_methods.update(pm.id, params={"metadata": {"a": "b"}})
    assert raised.value.user_message == (
        "You must save this PaymentMethod to a customer before you can update it.")


def test_retrieve_unknown(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.payment_methods.retrieve("pm_missing")
    assert raised.value.http_status == 404
    assert raised.value.user_message == "No such PaymentMethod: 'pm_missing'"
