"""SetupIntents through the official SDK: saving a card for later, with the test cards'
behaviour on setup (declines, 3-D Secure), cancel, list, and Stripe's errors
(https://docs.stripe.com/api/setup_intents, https://docs.stripe.com/testing)."""

from __future__ import annotations

from typing import Any

import pytest
import requests
import stripe

from harness.servers import RunningServer


def events_for(client: stripe.StripeClient, event_type: str, object_id: str) -> list[Any]:
    found = client.v1.events.list(params={"type": event_type, "limit": 100}).data
    return [e for e in found if e.data.object["id"] == object_id]


def answer_challenge(server: RunningServer, seti_id: str, outcome: str) -> dict[str, Any]:
    answer = requests.post(f"{server.url}/_sandbox/setup_intents/{seti_id}/three_d_secure",
                           data={"outcome": outcome}, timeout=10)
    answer.raise_for_status()
    body: dict[str, Any] = answer.json()
    return body


def test_a_card_is_set_up_and_attached_to_the_customer(client: stripe.StripeClient) -> None:
    customer = client.v1.customers.create(params={"email": "grace@example.com"})

    setup = client.v1.setup_intents.create(params={
        "customer": customer.id, "payment_method": "pm_card_visa", "confirm": True,
        "usage": "off_session", "metadata": {"lot": "17"}})

    assert setup.id.startswith("seti_") and setup.object == "setup_intent"
    assert setup.status == "succeeded" and setup.usage == "off_session"
    assert setup.client_secret.startswith(f"{setup.id}_secret_")
    assert setup.metadata["lot"] == "17" and setup.next_action is None
    method = client.v1.payment_methods.retrieve(str(setup.payment_method))
    assert method.customer == customer.id and method.card.last4 == "4242"
    assert len(events_for(client, "setup_intent.created", setup.id)) == 1
    assert len(events_for(client, "setup_intent.succeeded", setup.id)) == 1
    assert [s.id for s in client.v1.setup_intents.list(
        params={"customer": customer.id}).data] == [setup.id]
    assert [s.id for s in client.v1.setup_intents.list(
        params={"payment_method": str(setup.payment_method)}).data] == [setup.id]


def test_the_saved_card_pays_off_session_without_a_new_challenge(
        client: stripe.StripeClient, sandbox_server: RunningServer) -> None:
    customer = client.v1.customers.create(params={"email": "ada@example.com"})
    setup = client.v1.setup_intents.create(params={
        "customer": customer.id, "payment_method": "pm_card_authenticationRequiredOnSetup",
        "confirm": True, "return_url": "https://shop.test/saved"})
    assert setup.status == "requires_action"
    assert setup.next_action.type == "redirect_to_url"
    assert setup.next_action.redirect_to_url.url.endswith(f"/_sandbox/three_d_secure/{setup.id}")
    assert len(events_for(client, "setup_intent.requires_action", setup.id)) == 1

    assert answer_challenge(sandbox_server, setup.id, "authenticate")["status"] == "succeeded"

    payment = client.v1.payment_intents.create(params={
        "amount": 4_200, "currency": "usd", "customer": customer.id,
        "payment_method": str(client.v1.setup_intents.retrieve(setup.id).payment_method),
        "off_session": True, "confirm": True})
    assert payment.status == "succeeded"


def test_the_challenge_page_completes_a_setup(client: stripe.StripeClient,
                                              sandbox_server: RunningServer) -> None:
    setup = client.v1.setup_intents.create(params={
        "payment_method": "pm_card_authenticationRequired", "confirm": True,
        "return_url": "https://shop.test/saved?step=2"})
    page = requests.get(setup.next_action.redirect_to_url.url, timeout=10)
    assert page.status_code == 200 and "a card saved for later" in page.text

    answer = requests.post(setup.next_action.redirect_to_url.url,
                           data={"outcome": "authenticate"}, allow_redirects=False, timeout=10)

    assert answer.status_code == 303
    assert answer.headers["Location"].startswith(
        f"https://shop.test/saved?step=2&setup_intent={setup.id}&")
    assert "redirect_status=succeeded" in answer.headers["Location"]
    assert client.v1.setup_intents.retrieve(setup.id).status == "succeeded"


def test_a_failed_challenge_leaves_it_to_try_again(client: stripe.StripeClient,
                                                   sandbox_server: RunningServer) -> None:
    setup = client.v1.setup_intents.create(params={
        "payment_method": "pm_card_authenticationRequired", "confirm": True})

    failed = answer_challenge(sandbox_server, setup.id, "fail")

    assert failed["status"] == "requires_payment_method" and failed["payment_method"] is None
    assert failed["last_setup_error"]["code"] == "setup_intent_authentication_failure"
    assert len(events_for(client, "setup_intent.setup_failed", setup.id)) == 1
    retried = client.v1.setup_intents.confirm(setup.id, params={"payment_method": "pm_card_visa"})
    assert retried.status == "succeeded" and retried.last_setup_error is None


def test_a_declining_card_fails_the_setup_with_a_card_error(
        client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.CardError) as declined:
        client.v1.setup_intents.create(params={
            "payment_method": "pm_card_chargeDeclined", "confirm": True})
    error = declined.value
    assert error.http_status == 402 and error.code == "card_declined"
    body = error.json_body or {}
    setup = body["error"]["setup_intent"]
    assert setup["status"] == "requires_payment_method"
    assert setup["last_setup_error"]["decline_code"] == "generic_decline"
    assert len(events_for(client, "setup_intent.setup_failed", setup["id"])) == 1


def test_request_three_d_secure_any_challenges_an_ordinary_card(
        client: stripe.StripeClient) -> None:
    setup = client.v1.setup_intents.create(params={
        "payment_method": "pm_card_visa", "confirm": True,
        "payment_method_options": {"card": {"request_three_d_secure": "any"}}})
    assert setup.status == "requires_action"
    assert setup.payment_method_options.card.request_three_d_secure == "any"


def test_confirm_later_then_cancel_and_the_errors_of_a_closed_setup(
        client: stripe.StripeClient) -> None:
    setup = client.v1.setup_intents.create(params={"description": "Save a card"})
    assert setup.status == "requires_payment_method"
    with pytest.raises(stripe.InvalidRequestError) as missing:
        client.v1.setup_intents.confirm(setup.id)
    assert missing.value.code == "setup_intent_unexpected_state"

    updated = client.v1.setup_intents.update(setup.id, params={"payment_method": "pm_card_visa"})
    assert updated.status == "requires_confirmation"
    canceled = client.v1.setup_intents.cancel(
        setup.id, params={"cancellation_reason": "requested_by_customer"})
    assert canceled.status == "canceled"
    assert canceled.cancellation_reason == "requested_by_customer"
    assert len(events_for(client, "setup_intent.canceled", setup.id)) == 1
    for call in (lambda: client.v1.setup_intents.confirm(setup.id),
                 lambda: client.v1.setup_intents.cancel(setup.id),
                 lambda: client.v1.setup_intents.update(setup.id, params={
                     "description": "Too late"})):
        with pytest.raises(stripe.InvalidRequestError) as closed:
            call()
        assert closed.value.code == "setup_intent_unexpected_state"
        assert "status of canceled" in str(closed.value.user_message)


def test_unknown_ids_and_parameters_get_stripe_errors(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as missing:
        client.v1.setup_intents.retrieve("seti_doesnotexist")
    assert missing.value.http_status == 404 and missing.value.code == "resource_missing"
    with pytest.raises(stripe.InvalidRequestError) as unknown:
        client.v1.setup_intents.create(params={"amount": 100})  # type: ignore[typeddict-unknown-key]
    assert unknown.value.code == "parameter_unknown" and unknown.value.param == "amount"
    with pytest.raises(stripe.InvalidRequestError) as bad_usage:
        client.v1.setup_intents.create(params={"usage": "sometimes"})  # type: ignore[typeddict-item]
    assert bad_usage.value.param == "usage"
