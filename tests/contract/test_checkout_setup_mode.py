"""Checkout Sessions in ``setup`` mode through the official SDK over real HTTP: saving a
card for later with a SetupIntent, completed through the headless route as the harness
does, with the test cards' behaviour on setup (declines, 3-D Secure), expiry, and
Stripe's refusals (https://docs.stripe.com/payments/save-and-reuse?platform=checkout)."""

from __future__ import annotations

from typing import Any

import pytest
import requests
import stripe
from refusals import refusal  # type: ignore[import-not-found]

from harness.servers import RunningServer

SUCCESS_URL = "https://auction.example/card-saved?session_id={CHECKOUT_SESSION_ID}"
BASIL = "2025-03-31.basil"


def setup_session(client: stripe.StripeClient, **extra: Any) -> Any:
    return client.v1.checkout.sessions.create(params={  # type: ignore[arg-type]
        "mode": "setup", "currency": "usd", "success_url": SUCCESS_URL, **extra})


def complete(server: RunningServer, session_id: str, **form: str) -> requests.Response:
    return requests.post(f"{server.url}/_sandbox/checkout/sessions/{session_id}/complete",
                         data={"email": "grace@example.com", "name": "Grace Hopper", **form},
                         timeout=10)


def refused(client: stripe.StripeClient, params: dict[str, Any],
            options: dict[str, Any] | None = None) -> dict[str, Any]:
    return refusal(lambda: client.v1.checkout.sessions.create(
        params=params, options=options or {}))  # type: ignore[arg-type]


def events_about(client: stripe.StripeClient, *object_ids: str) -> list[str]:
    """The types of the events about these objects, oldest first."""
    events = client.v1.events.list(params={"limit": 100}).data
    return [e.type for e in reversed(events) if e.data.object["id"] in object_ids]


def test_a_setup_session_is_made_with_its_setup_intent(client: stripe.StripeClient) -> None:
    customer = client.v1.customers.create(params={"email": "grace@example.com"})

    session = setup_session(client, customer=customer.id, metadata={"bidder": "7"},
                            setup_intent_data={"description": "Card for bidding",
                                               "metadata": {"bidder": "7"}})

    assert (session.mode, session.status, session.payment_status) == \
        ("setup", "open", "no_payment_required")
    assert (session.amount_subtotal, session.amount_total, session.total_details) == \
        (None, None, None)
    assert (session.currency, session.customer, session.payment_intent) == \
        ("usd", customer.id, None)
    assert session.url is not None and session.url.endswith(f"/c/pay/{session.id}")
    assert session.discounts == [] and session.metadata["bidder"] == "7"
    setup = client.v1.setup_intents.retrieve(str(session.setup_intent))
    assert (setup.status, setup.customer, setup.usage) == \
        ("requires_payment_method", customer.id, "off_session")
    assert setup.description == "Card for bidding" and setup.metadata["bidder"] == "7"
    assert events_about(client, setup.id) == ["setup_intent.created"]
    assert client.v1.checkout.sessions.line_items.list(session.id).data == []


def test_completing_saves_the_card_to_the_customer(client: stripe.StripeClient,
                                                   sandbox_server: RunningServer) -> None:
    customer = client.v1.customers.create(params={"email": "grace@example.com"})
    session = setup_session(client, customer=customer.id)

    done = complete(sandbox_server, session.id, payment_method="pm_card_visa")

    assert done.status_code == 200, done.text
    assert done.json()["status"] == "succeeded"
    finished = client.v1.checkout.sessions.retrieve(session.id)
    assert (finished.status, finished.payment_status, finished.payment_intent) == \
        ("complete", "no_payment_required", None)
    assert finished.customer_details is not None
    assert finished.customer_details.email == "grace@example.com"
    setup = client.v1.setup_intents.retrieve(str(finished.setup_intent))
    assert setup.status == "succeeded"
    card = client.v1.payment_methods.retrieve(str(setup.payment_method))
    assert card.customer == customer.id and card.card is not None and card.card.last4 == "4242"
    assert events_about(client, session.id, setup.id, card.id) == [
        "setup_intent.created", "payment_method.attached", "setup_intent.succeeded",
        "checkout.session.completed"]

    later = client.v1.payment_intents.create(params={
        "amount": 64_200, "currency": "usd", "customer": customer.id,
        "payment_method": card.id, "off_session": True, "confirm": True})
    assert later.status == "succeeded"


def test_customer_creation_always_makes_the_customer(client: stripe.StripeClient,
                                                     sandbox_server: RunningServer) -> None:
    session = setup_session(client, customer_creation="always")
    assert session.customer is None

    assert complete(sandbox_server, session.id, payment_method="pm_card_mastercard"
                    ).status_code == 200

    finished = client.v1.checkout.sessions.retrieve(session.id, params={"expand": ["customer"]})
    customer = finished.customer
    assert isinstance(customer, stripe.Customer) and customer.email == "grace@example.com"
    setup = client.v1.setup_intents.retrieve(str(finished.setup_intent))
    assert setup.customer == customer.id
    card = client.v1.payment_methods.retrieve(str(setup.payment_method))
    assert card.customer == customer.id


@pytest.mark.parametrize(("answer", "status", "session_status"),
                         [("authenticate", "succeeded", "complete"),
                          ("fail", "declined", "open")])
def test_a_card_that_asks_for_3d_secure_is_challenged(
        client: stripe.StripeClient, sandbox_server: RunningServer, answer: str, status: str,
        session_status: str) -> None:
    session = setup_session(client)

    done = complete(sandbox_server, session.id, payment_method="pm_card_authenticationRequired",
                    three_d_secure=answer)

    assert done.json()["status"] == status
    assert client.v1.checkout.sessions.retrieve(session.id).status == session_status
    setup = client.v1.setup_intents.retrieve(str(session.setup_intent))
    if answer == "fail":
        assert done.status_code == 402
        assert setup.status == "requires_payment_method"
        assert setup.last_setup_error is not None
        assert setup.last_setup_error.code == "setup_intent_authentication_failure"
    else:
        assert setup.status == "succeeded"


def test_a_declined_card_keeps_the_session_open_for_another(
        client: stripe.StripeClient, sandbox_server: RunningServer) -> None:
    session = setup_session(client)

    declined = complete(sandbox_server, session.id, payment_method="pm_card_chargeDeclined")

    assert declined.status_code == 402
    assert declined.json()["error"]["decline_code"] == "generic_decline"
    assert client.v1.checkout.sessions.retrieve(session.id).status == "open"
    retried = complete(sandbox_server, session.id, **{
        "card[number]": "5555555555554444", "card[exp_month]": "12", "card[exp_year]": "2034",
        "card[cvc]": "123"})
    assert retried.status_code == 200, retried.text
    assert retried.json()["setup_intent"]["status"] == "succeeded"


def test_expiring_a_setup_session_cancels_its_setup_intent(client: stripe.StripeClient) -> None:
    session = setup_session(client)

    expired = client.v1.checkout.sessions.expire(session.id)

    assert expired.status == "expired"
    setup = client.v1.setup_intents.retrieve(str(session.setup_intent))
    assert (setup.status, setup.cancellation_reason) == ("canceled", "abandoned")


def test_the_hosted_page_offers_to_save_a_card(client: stripe.StripeClient,
                                               sandbox_server: RunningServer) -> None:
    session = setup_session(client)
    page = requests.get(str(session.url), timeout=10)
    assert page.status_code == 200
    assert "Save card" in page.text and "product-summary-total-amount" not in page.text

    complete(sandbox_server, session.id, payment_method="pm_card_visa").raise_for_status()

    assert "Your card has been saved" in requests.get(str(session.url), timeout=10).text


@pytest.mark.parametrize("name", ["line_items", "discounts", "payment_intent_data",
                                  "allow_promotion_codes", "submit_type"])
def test_what_setup_mode_refuses(client: stripe.StripeClient, name: str) -> None:
    values: dict[str, Any] = {
        "line_items": [{"price_data": {"currency": "usd", "unit_amount": 100,
                                       "product_data": {"name": "Lot 17"}}, "quantity": 1}],
        "discounts": [{"coupon": "ANY"}], "payment_intent_data": {"description": "x"},
        "allow_promotion_codes": True, "submit_type": "pay"}
    params = {"mode": "setup", "currency": "usd", name: values[name]}
    assert refused(client, params) == {
        "code": None, "param": name, "message": f"You can not pass `{name}` in `setup` mode."}


def test_setup_intent_data_only_in_setup_mode(client: stripe.StripeClient) -> None:
    params = {"mode": "payment", "setup_intent_data": {"description": "x"}, "line_items": [
        {"price_data": {"currency": "usd", "unit_amount": 100,
                        "product_data": {"name": "Lot 17"}}, "quantity": 1}]}
    assert refused(client, params) == {
        "code": None, "param": "setup_intent_data",
        "message": "You can not pass `setup_intent_data` in `payment` mode."}


def test_currency_is_required_unless_payment_method_types_are_given(
        client: stripe.StripeClient) -> None:
    assert refused(client, {"mode": "setup"}) == {
        "code": "parameter_missing", "param": "currency",
        "message": "Missing required param: currency."}
    # basil still takes payment_method_types, which make the currency unnecessary.
    session = client.v1.checkout.sessions.create(
        params={"mode": "setup", "payment_method_types": ["card"]},  # type: ignore[typeddict-unknown-key]
        options={"stripe_version": BASIL})
    assert (session.mode, session.currency, session.payment_method_types) == \
        ("setup", None, ["card"])
    refused_bank = refused(client, {"mode": "setup", "payment_method_types": ["sepa_debit"]},
                           {"stripe_version": BASIL})
    assert refused_bank["param"] == "payment_method_types"


def test_the_payment_page_api_saves_the_card_too(client: stripe.StripeClient,
                                                http: requests.Session,
                                                sandbox_server: RunningServer) -> None:
    """Stripe's own page (and the Stripe CLI) confirm through ``/v1/payment_pages``."""
    session = setup_session(client)

    answer = http.post(f"{sandbox_server.url}/v1/payment_pages/{session.id}/confirm",
                       data={"payment_method": "pm_card_visa"}, timeout=10)

    assert answer.status_code == 200, answer.text
    assert (answer.json()["status"], answer.json()["mode"]) == ("complete", "setup")
    setup = client.v1.setup_intents.retrieve(str(session.setup_intent))
    assert setup.status == "succeeded"
