"""``POST /v1/charges`` with a source or a customer's default card, through the official
SDK (https://docs.stripe.com/api/charges/create), each test card behaving as it does on
Stripe."""

from __future__ import annotations

from typing import Any

import pytest
import stripe


def charge(client: stripe.StripeClient, **params: Any) -> stripe.Charge:
    full: Any = {"amount": 64200, "currency": "usd", **params}
    return client.v1.charges.create(params=full)


def has_event(client: stripe.StripeClient, event_type: str, object_id: str) -> bool:
    listed = client.v1.events.list(params={"type": event_type, "limit": 100}).data
    return any(e.data.object["id"] == object_id for e in listed)


def test_a_token_is_charged_and_captured(client: stripe.StripeClient) -> None:
    paid = charge(client, source="tok_visa", description="Lot 17: oak sideboard")
    assert (paid.status, paid.paid, paid.captured, paid.amount_captured) == (
        "succeeded", True, True, 64200)
    assert paid.payment_intent is None and paid.customer is None
    source: Any = paid.source
    assert source is not None and source["brand"] == "Visa"
    assert paid.payment_method == source["id"]
    assert paid.payment_method_details is not None
    assert paid.payment_method_details.card.last4 == "4242"  # type: ignore[union-attr]
    assert paid.outcome is not None and paid.outcome.type == "authorized"
    assert isinstance(paid.balance_transaction, str)
    assert has_event(client, "charge.succeeded", paid.id)


def test_a_customer_is_charged_on_its_default_card(client: stripe.StripeClient) -> None:
    customer = client.v1.customers.create(params={"source": "tok_mastercard"})
    paid = charge(client, customer=customer.id)
    assert (paid.customer, paid.payment_method) == (customer.id, customer.default_source)
    other = client.v1.customers.payment_sources.create(customer.id,
                                                       params={"source": "tok_visa"})
    assert charge(client, customer=customer.id, source=other.id).payment_method == other.id


def test_a_customer_without_a_card_cannot_be_charged(client: stripe.StripeClient) -> None:
    customer = client.v1.customers.create()
    with pytest.raises(stripe.InvalidRequestError) as raised:
        charge(client, customer=customer.id)
    assert (raised.value.code, raised.value.param) == ("missing", "card")
    assert raised.value.user_message == "Cannot charge a customer that has no active card"


def test_someone_elses_card_is_refused(client: stripe.StripeClient) -> None:
    customer = client.v1.customers.create(params={"source": "tok_visa"})
    stranger = client.v1.customers.create(params={"source": "tok_visa"})
    with pytest.raises(stripe.InvalidRequestError) as raised:
        charge(client, customer=customer.id, source=str(stranger.default_source))
    assert raised.value.user_message == (
        f"Customer {customer.id} does not have a linked source with ID"
        f" {stranger.default_source}.")


def test_a_source_or_a_customer_is_required(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as raised:
        charge(client)
    assert raised.value.user_message == "Must provide source or customer."


@pytest.mark.parametrize(("token", "code", "decline_code", "message"), [
    ("tok_chargeDeclined", "card_declined", "generic_decline", "Your card was declined."),
    ("tok_chargeDeclinedInsufficientFunds", "card_declined", "insufficient_funds",
     "Your card has insufficient funds."),
    ("tok_chargeDeclinedExpiredCard", "expired_card", "expired_card", "Your card has expired."),
    ("tok_threeDSecure2Required", "card_declined", "authentication_required",
     "Your card was declined. This transaction requires authentication."),
])
def test_declines_are_card_errors_with_a_failed_charge(
        client: stripe.StripeClient, token: str, code: str, decline_code: str,
        message: str) -> None:
    with pytest.raises(stripe.CardError) as raised:
        charge(client, source=token)
    error = raised.value.error
    assert error is not None
    assert (raised.value.http_status, error.code, error.decline_code, error.message) == (
        402, code, decline_code, message)
    assert isinstance(error.charge, str)
    failed = client.v1.charges.retrieve(error.charge)
    assert (failed.status, failed.paid, failed.failure_code) == ("failed", False, code)
    assert has_event(client, "charge.failed", failed.id)


def test_a_stored_card_that_fails_later(client: stripe.StripeClient) -> None:
    customer = client.v1.customers.create(params={"source": "tok_chargeCustomerFail"})
    with pytest.raises(stripe.CardError) as raised:
        charge(client, customer=customer.id)
    assert raised.value.code == "card_declined"


def test_an_authorization_is_captured_later(client: stripe.StripeClient) -> None:
    held = charge(client, source="tok_visa", capture=False)
    assert (held.captured, held.status, held.balance_transaction) == (False, "succeeded", None)
    captured = client.v1.charges.capture(held.id, params={"amount": 50000})
    assert (captured.captured, captured.amount_captured, captured.amount_refunded) == (
        True, 50000, 14200)
    assert has_event(client, "charge.captured", held.id)
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.charges.capture(held.id)
    assert raised.value.code == "charge_already_captured"


def test_a_source_charge_is_refunded(client: stripe.StripeClient) -> None:
    paid = charge(client, source="tok_visa")
    refund = client.v1.refunds.create(params={"charge": paid.id, "amount": 2000})
    assert (refund.status, refund.amount, refund.payment_intent) == ("succeeded", 2000, None)
    assert client.v1.charges.retrieve(paid.id).amount_refunded == 2000
