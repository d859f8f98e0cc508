"""PaymentIntents through the official SDK: the status machine, test-card declines,
3-D Secure, capture and cancel, and the events they emit."""

from __future__ import annotations

from typing import Any

import pytest
import requests
import stripe

from harness.servers import RunningServer

RETURN_URL = "https://shop.example/return"


def create_confirmed(client: stripe.StripeClient, payment_method: str, **extra: Any
                     ) -> stripe.PaymentIntent:
    params: dict[str, Any] = {"amount": 2000, "currency": "usd", "confirm": True,
                              "payment_method": payment_method, **extra}
    return client.v1.payment_intents.create(params=params)  # type: ignore[arg-type]


def events_of(client: stripe.StripeClient, object_id: str, *types: str) -> list[str]:
    """The types of the events about ``object_id``, oldest first."""
    page = client.v1.events.list(params={"types": list(types), "limit": 100})
    return [e.type for e in reversed(page.data) if e.data.object.id == object_id]


def three_d_secure(server: RunningServer, pi_id: str, outcome: str) -> dict[str, Any]:
    response = requests.post(f"{server.url}/_sandbox/payment_intents/{pi_id}/three_d_secure",
                             data={"outcome": outcome}, timeout=10)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


# -- the happy path ---------------------------------------------------------------------
def test_create_and_confirm_in_one_call(client: stripe.StripeClient) -> None:
    pi = create_confirmed(client, "pm_card_visa", expand=["latest_charge.balance_transaction"])
    assert pi.id.startswith("pi_")
    assert pi.client_secret and pi.client_secret.startswith(f"{pi.id}_secret_")
    assert pi.status == "succeeded"
    assert pi.amount_received == 2000
    assert pi.capture_method == "automatic_async"
    charge = pi.latest_charge
    assert isinstance(charge, stripe.Charge)
    assert charge.status == "succeeded" and charge.captured and charge.paid
    transaction = charge.balance_transaction
    assert isinstance(transaction, stripe.BalanceTransaction)
    assert (transaction.amount, transaction.fee, transaction.net) == (2000, 88, 1912)
    assert str(pi.payment_method).startswith("pm_")  # a fresh PaymentMethod
    assert events_of(client, pi.id, "payment_intent.*") == [
        "payment_intent.created", "payment_intent.succeeded"]
    assert events_of(client, charge.id, "charge.*") == ["charge.succeeded"]


def test_each_use_of_a_test_id_makes_a_new_payment_method(client: stripe.StripeClient) -> None:
    first = create_confirmed(client, "pm_card_visa")
    second = create_confirmed(client, "pm_card_visa")
    assert first.payment_method != second.payment_method


def test_confirm_in_steps(client: stripe.StripeClient) -> None:
    pi = client.v1.payment_intents.create(params={"amount": 1500, "currency": "eur"})
    assert pi.status == "requires_payment_method"
    assert pi.automatic_payment_methods is not None and pi.automatic_payment_methods.enabled
    pi = client.v1.payment_intents.update(pi.id, params={"payment_method": "pm_card_mastercard"})
    assert pi.status == "requires_confirmation"
    pi = client.v1.payment_intents.confirm(pi.id, params={"expand": ["payment_method"]})
    assert pi.status == "succeeded"
    assert isinstance(pi.payment_method, stripe.PaymentMethod)
    assert pi.payment_method.card is not None and pi.payment_method.card.brand == "mastercard"


def test_list_filters_by_customer(client: stripe.StripeClient) -> None:
    customer = client.v1.customers.create(params={"email": "pi-list@example.com"})
    ids = [client.v1.payment_intents.create(
        params={"amount": 500 + i, "currency": "usd", "customer": customer.id}).id
        for i in range(3)]
    page = client.v1.payment_intents.list(params={"customer": customer.id})
    assert [p.id for p in page.data] == ids[::-1]


def test_setup_future_usage_attaches_the_card(client: stripe.StripeClient) -> None:
    customer = client.v1.customers.create(params={"email": "save@example.com"})
    pi = create_confirmed(client, "pm_card_visa", customer=customer.id,
                          setup_future_usage="off_session")
    assert pi.status == "succeeded"
    assert pi.payment_method is not None
    pm = client.v1.payment_methods.retrieve(str(pi.payment_method))
    assert pm.customer == customer.id


# -- validation -------------------------------------------------------------------------
def test_amount_below_the_minimum(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.payment_intents.create(params={"amount": 49, "currency": "usd"})
    assert raised.value.code == "amount_too_small"
    assert raised.value.param == "amount"
    assert raised.value.user_message == "Amount must be at least $0.50 usd"


def test_amount_above_the_maximum(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.payment_intents.create(params={"amount": 100_000_000, "currency": "usd"})
    assert raised.value.code == "amount_too_large"
    assert raised.value.user_message == "Amount must be no more than $999,999.99"


def test_payment_method_types_is_gone_in_endive(client: stripe.StripeClient) -> None:
    params: Any = {"amount": 1000, "currency": "usd", "payment_method_types": ["card"]}
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.payment_intents.create(params=params)
    assert raised.value.code == "parameter_unknown"
    assert raised.value.param == "payment_method_types"


def test_unknown_customer(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.payment_intents.create(
            params={"amount": 1000, "currency": "usd", "customer": "cus_missing"})
    assert raised.value.code == "resource_missing"
    assert raised.value.param == "customer"
    assert raised.value.user_message == "No such customer: 'cus_missing'"


def test_unknown_test_payment_method(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as raised:
        create_confirmed(client, "pm_card_x")
    assert raised.value.code == "resource_missing"
    assert raised.value.param == "payment_method"
    assert raised.value.user_message == "No such PaymentMethod: 'pm_card_x'"


def test_customer_payment_method_needs_the_customer(client: stripe.StripeClient) -> None:
    customer = client.v1.customers.create(params={"payment_method": "pm_card_visa"})
    pm = client.v1.customers.payment_methods.list(customer.id).data[0]
    with pytest.raises(stripe.InvalidRequestError) as raised:
        create_confirmed(client, pm.id)
    assert raised.value.param == "payment_method"
    assert raised.value.user_message == (
        f"The `payment_method` parameter supplied {pm.id} belongs to the Customer"
        f" {customer.id}. Please include the Customer in the `customer` parameter on the"
        " PaymentIntent.")
    assert create_confirmed(client, pm.id, customer=customer.id).status == "succeeded"


def test_a_card_used_without_customer_cannot_pay_twice(client: stripe.StripeClient) -> None:
    pm = client.v1.payment_methods.create(params={"type": "card", "card": {
        "number": "4242424242424242", "exp_month": 12, "exp_year": 2040, "cvc": "123"}})
    assert create_confirmed(client, pm.id).status == "succeeded"
    with pytest.raises(stripe.InvalidRequestError) as raised:
        create_confirmed(client, pm.id)
    assert raised.value.user_message is not None
    assert raised.value.user_message.startswith("The provided PaymentMethod was previously used")


# -- wrong-state errors -----------------------------------------------------------------
def test_confirm_without_payment_method(client: stripe.StripeClient) -> None:
    pi = client.v1.payment_intents.create(params={"amount": 1000, "currency": "usd"})
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.payment_intents.confirm(pi.id)
    assert raised.value.code == "payment_intent_unexpected_state"
    assert raised.value.user_message == (
        "You cannot confirm this PaymentIntent because it's missing a payment method. You can"
        " either update the PaymentIntent with a payment method and then confirm it again, or"
        " confirm it again directly with a payment method or ConfirmationToken.")


def test_confirm_twice(client: stripe.StripeClient) -> None:
    pi = create_confirmed(client, "pm_card_visa")
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.payment_intents.confirm(pi.id)
    assert raised.value.code == "payment_intent_unexpected_state"
    assert raised.value.user_message == (
        "You cannot confirm this PaymentIntent because it has already succeeded after being"
        " previously confirmed.")
    assert raised.value.json_body["error"]["payment_intent"]["id"] == pi.id  # type: ignore[index]


def test_cancel_a_succeeded_payment(client: stripe.StripeClient) -> None:
    pi = create_confirmed(client, "pm_card_visa")
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.payment_intents.cancel(pi.id)
    assert raised.value.code == "payment_intent_unexpected_state"
    assert raised.value.user_message == (
        "You cannot cancel this PaymentIntent because it has a status of succeeded. Only a"
        " PaymentIntent with one of the following statuses may be canceled:"
        " requires_payment_method, requires_capture, requires_confirmation, requires_action,"
        " processing.")


def test_capture_in_the_wrong_state(client: stripe.StripeClient) -> None:
    pending = create_confirmed(client, "pm_card_threeDSecure2Required", return_url=RETURN_URL)
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.payment_intents.capture(pending.id)
    assert raised.value.code == "payment_intent_unexpected_state"
    assert raised.value.user_message is not None
    assert raised.value.user_message.startswith(
        "This PaymentIntent could not be captured because it has a status of requires_action.")
    done = create_confirmed(client, "pm_card_visa")
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.payment_intents.capture(done.id)
    assert raised.value.user_message == (
        "This PaymentIntent could not be captured because it has already been captured.")


def test_update_amount_after_success(client: stripe.StripeClient) -> None:
    pi = create_confirmed(client, "pm_card_visa")
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.payment_intents.update(pi.id, params={"amount": 5000})
    assert raised.value.code == "payment_intent_unexpected_state"
    assert raised.value.param == "amount"
    updated = client.v1.payment_intents.update(pi.id, params={"metadata": {"order": "42"}})
    assert updated.metadata["order"] == "42"


# -- declines ---------------------------------------------------------------------------
DECLINES = [
    ("pm_card_visa_chargeDeclined", "card_declined", "generic_decline", None,
     "Your card was declined."),
    ("pm_card_visa_chargeDeclinedInsufficientFunds", "card_declined", "insufficient_funds", None,
     "Your card has insufficient funds."),
    ("pm_card_visa_chargeDeclinedLostCard", "card_declined", "lost_card", None,
     "Your card was declined."),
    ("pm_card_visa_chargeDeclinedStolenCard", "card_declined", "stolen_card", None,
     "Your card was declined."),
    ("pm_card_chargeDeclinedExpiredCard", "expired_card", "expired_card", "exp_month",
     "Your card has expired."),
    ("pm_card_chargeDeclinedIncorrectCvc", "incorrect_cvc", "incorrect_cvc", "cvc",
     "Your card's security code is incorrect."),
    ("pm_card_chargeDeclinedProcessingError", "processing_error", "processing_error", None,
     "An error occurred while processing your card. Try again in a little bit."),
    ("pm_card_visa_chargeDeclinedVelocityLimitExceeded", "card_declined",
     "card_velocity_exceeded", None,
     "Your card was declined for making repeated attempts too frequently or exceeding its"
     " amount limit."),
    ("pm_card_radarBlock", "card_declined", "fraudulent", None, "Your card was declined."),
    ("pm_card_chargeCustomerFail", "card_declined", "generic_decline", None,
     "Your card was declined."),
]


@pytest.mark.parametrize(("payment_method", "code", "decline_code", "param", "message"), DECLINES)
def test_declines(client: stripe.StripeClient, payment_method: str, code: str,
                  decline_code: str, param: str | None, message: str) -> None:
    with pytest.raises(stripe.CardError) as raised:
        create_confirmed(client, payment_method)
    error = raised.value
    assert error.http_status == 402
    assert (error.code, error.param, error.user_message) == (code, param, message)
    body = error.json_body["error"]  # type: ignore[index]
    assert body["decline_code"] == decline_code
    assert body["type"] == "card_error"
    pi = body["payment_intent"]
    assert pi["status"] == "requires_payment_method"
    assert pi["payment_method"] is None
    assert pi["last_payment_error"]["code"] == code
    assert pi["last_payment_error"]["decline_code"] == decline_code
    assert pi["last_payment_error"]["payment_method"]["id"] == body["payment_method"]["id"]
    assert pi["latest_charge"] == body["charge"]
    charge = client.v1.charges.retrieve(body["charge"])
    assert (charge.status, charge.paid, charge.failure_code) == ("failed", False, code)
    assert charge.failure_message == message
    assert charge.outcome is not None
    expected = "blocked" if decline_code == "fraudulent" else "issuer_declined"
    assert charge.outcome.type == expected
    assert events_of(client, pi["id"], "payment_intent.*") == [
        "payment_intent.created", "payment_intent.payment_failed"]
    assert events_of(client, charge.id, "charge.*") == ["charge.failed"]


def test_radar_block_outcome(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.CardError) as raised:
        create_confirmed(client, "pm_card_radarBlock")
    charge = client.v1.charges.retrieve(raised.value.json_body["error"]["charge"])  # type: ignore[index]
    assert charge.outcome is not None
    assert charge.outcome.risk_level == "highest"
    assert charge.outcome.network_status == "not_sent_to_network"
    assert charge.outcome.seller_message == "Stripe blocked this payment as too risky."


def test_elevated_risk_succeeds_with_its_outcome(client: stripe.StripeClient) -> None:
    pi = create_confirmed(client, "pm_card_riskLevelElevated", expand=["latest_charge"])
    assert pi.status == "succeeded"
    assert isinstance(pi.latest_charge, stripe.Charge)
    outcome = pi.latest_charge.outcome
    assert outcome is not None
    assert (outcome.risk_level, outcome.type) == ("elevated", "authorized")
    assert outcome.risk_score is not None and 65 <= outcome.risk_score < 75


def test_retry_after_a_decline(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.CardError) as raised:
        create_confirmed(client, "pm_card_visa_chargeDeclined")
    pi_id = raised.value.json_body["error"]["payment_intent"]["id"]  # type: ignore[index]
    pi = client.v1.payment_intents.confirm(pi_id, params={"payment_method": "pm_card_visa"})
    assert pi.status == "succeeded"
    assert pi.last_payment_error is None
    charges = client.v1.charges.list(params={"payment_intent": pi_id})
    assert [c.status for c in charges.data] == ["succeeded", "failed"]


# -- 3-D Secure -------------------------------------------------------------------------
def test_three_d_secure_authenticated(client: stripe.StripeClient,
                                      sandbox_server: RunningServer) -> None:
    pi = create_confirmed(client, "pm_card_threeDSecure2Required", return_url=RETURN_URL)
    assert pi.status == "requires_action"
    assert pi.next_action is not None and pi.next_action.type == "redirect_to_url"
    redirect = pi.next_action.redirect_to_url
    assert redirect is not None
    assert redirect.return_url == RETURN_URL
    assert redirect.url == f"{sandbox_server.url}/_sandbox/three_d_secure/{pi.id}"
    done = three_d_secure(sandbox_server, pi.id, "authenticate")
    assert done["status"] == "succeeded"
    charge = client.v1.charges.retrieve(done["latest_charge"])
    card = charge.payment_method_details.card  # type: ignore[union-attr]
    assert card is not None and card.three_d_secure is not None
    assert (card.three_d_secure.result, card.three_d_secure.authentication_flow) == (
        "authenticated", "challenge")
    assert events_of(client, pi.id, "payment_intent.*") == [
        "payment_intent.created", "payment_intent.requires_action", "payment_intent.succeeded"]


def test_three_d_secure_failed(client: stripe.StripeClient,
                               sandbox_server: RunningServer) -> None:
    pi = create_confirmed(client, "pm_card_authenticationRequired", return_url=RETURN_URL)
    failed = three_d_secure(sandbox_server, pi.id, "fail")
    assert failed["status"] == "requires_payment_method"
    error = failed["last_payment_error"]
    assert error["code"] == "payment_intent_authentication_failure"
    assert error["message"] == (
        "The provided PaymentMethod has failed authentication. You can provide"
        " payment_method_data or a new PaymentMethod to attempt to fulfill this PaymentIntent"
        " again.")
    assert failed["latest_charge"] is None
    assert events_of(client, pi.id, "payment_intent.*")[-1] == "payment_intent.payment_failed"


def test_declined_after_authentication(client: stripe.StripeClient,
                                       sandbox_server: RunningServer) -> None:
    pi = create_confirmed(client, "pm_card_authenticationRequiredChargeDeclinedInsufficientFunds",
                          return_url=RETURN_URL)
    assert pi.status == "requires_action"
    done = three_d_secure(sandbox_server, pi.id, "authenticate")
    assert done["status"] == "requires_payment_method"
    assert done["last_payment_error"]["decline_code"] == "insufficient_funds"


def test_request_three_d_secure_any(client: stripe.StripeClient,
                                    sandbox_server: RunningServer) -> None:
    pi = create_confirmed(client, "pm_card_visa", return_url=RETURN_URL,
                          payment_method_options={"card": {"request_three_d_secure": "any"}})
    assert pi.status == "requires_action"
    assert pi.payment_method_options is not None
    assert pi.payment_method_options.card is not None
    assert pi.payment_method_options.card.request_three_d_secure == "any"
    assert three_d_secure(sandbox_server, pi.id, "authenticate")["status"] == "succeeded"


def test_frictionless_three_d_secure(client: stripe.StripeClient) -> None:
    pi = client.v1.payment_intents.create(params={
        "amount": 2000, "currency": "usd", "confirm": True, "expand": ["latest_charge"],
        "payment_method_data": {"type": "card", "card": {  # type: ignore[typeddict-unknown-key]
            "number": "4000000032200000", "exp_month": 12, "exp_year": 2040, "cvc": "123"}},
    })
    assert pi.status == "succeeded"
    assert isinstance(pi.latest_charge, stripe.Charge)
    details = pi.latest_charge.payment_method_details.card.three_d_secure  # type: ignore[union-attr]
    assert details is not None
    assert (details.result, details.authentication_flow) == ("authenticated", "frictionless")


def test_off_session_payment_needing_authentication(client: stripe.StripeClient) -> None:
    customer = client.v1.customers.create(
        params={"payment_method": "pm_card_authenticationRequired"})
    pm = client.v1.customers.payment_methods.list(customer.id).data[0]
    with pytest.raises(stripe.CardError) as raised:
        create_confirmed(client, pm.id, customer=customer.id, off_session=True)
    assert raised.value.code == "authentication_required"
    assert raised.value.json_body["error"]["decline_code"] == "authentication_required"  # type: ignore[index]


# -- manual capture and cancel ----------------------------------------------------------
def test_manual_capture_in_part(client: stripe.StripeClient) -> None:
    pi = create_confirmed(client, "pm_card_visa", capture_method="manual")
    assert (pi.status, pi.amount_capturable, pi.amount_received) == ("requires_capture", 2000, 0)
    charge = client.v1.charges.retrieve(str(pi.latest_charge))
    assert (charge.captured, charge.balance_transaction) == (False, None)
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.payment_intents.capture(pi.id, params={"amount_to_capture": 2500})
    assert raised.value.code == "amount_too_large"
    assert raised.value.user_message == (
        "The payment could not be captured because the requested capture amount is greater"
        " than the amount you can capture for this charge.")
    captured = client.v1.payment_intents.capture(
        pi.id, params={"amount_to_capture": 1500, "expand": ["latest_charge.balance_transaction"]})
    assert (captured.status, captured.amount_received, captured.amount_capturable) == (
        "succeeded", 1500, 0)
    charge = captured.latest_charge  # type: ignore[assignment]
    assert isinstance(charge, stripe.Charge)
    assert (charge.amount_captured, charge.amount_refunded, charge.refunded) == (1500, 500, False)
    assert isinstance(charge.balance_transaction, stripe.BalanceTransaction)
    assert charge.balance_transaction.amount == 1500
    assert events_of(client, pi.id, "payment_intent.*") == [
        "payment_intent.created", "payment_intent.amount_capturable_updated",
        "payment_intent.succeeded"]
    assert events_of(client, charge.id, "charge.*") == ["charge.succeeded", "charge.captured"]


def test_cancel_with_reason(client: stripe.StripeClient) -> None:
    pi = client.v1.payment_intents.create(params={"amount": 1000, "currency": "usd"})
    canceled = client.v1.payment_intents.cancel(
        pi.id, params={"cancellation_reason": "requested_by_customer"})
    assert canceled.status == "canceled"
    assert canceled.cancellation_reason == "requested_by_customer"
    assert canceled.canceled_at is not None
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.payment_intents.confirm(pi.id, params={"payment_method": "pm_card_visa"})
    assert raised.value.code == "payment_intent_unexpected_state"
    assert events_of(client, pi.id, "payment_intent.*") == [
        "payment_intent.created", "payment_intent.canceled"]


def test_cancel_releases_an_authorization(client: stripe.StripeClient) -> None:
    pi = create_confirmed(client, "pm_card_visa", capture_method="manual")
    canceled = client.v1.payment_intents.cancel(pi.id, params={"expand": ["latest_charge"]})
    assert canceled.status == "canceled" and canceled.amount_capturable == 0
    assert isinstance(canceled.latest_charge, stripe.Charge)
    assert canceled.latest_charge.refunded is True
    assert canceled.latest_charge.amount_refunded == 2000
