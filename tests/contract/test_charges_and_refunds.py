"""Charges, refunds and balance transactions through the official SDK, including the
refund test cards whose outcome arrives later (advanced with the sandbox clock)."""

from __future__ import annotations

from typing import Any

import pytest
import requests
import stripe

from harness.servers import RunningServer


def paid(client: stripe.StripeClient, payment_method: str = "pm_card_visa", amount: int = 2000,
         **extra: Any) -> stripe.PaymentIntent:
    params: Any = {"amount": amount, "currency": "usd", "confirm": True,
                   "payment_method": payment_method, **extra}
    pi = client.v1.payment_intents.create(params=params)
    assert pi.status in ("succeeded", "requires_capture")
    return pi


def charge_of(client: stripe.StripeClient, pi: stripe.PaymentIntent) -> stripe.Charge:
    return client.v1.charges.retrieve(str(pi.latest_charge))


def event_types(client: stripe.StripeClient, object_id: str, pattern: str) -> list[str]:
    page = client.v1.events.list(params={"type": pattern, "limit": 100})
    return [e.type for e in reversed(page.data) if e.data.object.id == object_id]


def advance_clock(server: RunningServer, seconds: int) -> None:
    response = requests.post(f"{server.url}/_sandbox/clock/advance",
                             data={"seconds": seconds}, timeout=30)
    assert response.status_code == 200, response.text


# -- charges ----------------------------------------------------------------------------
def test_charge_fields(client: stripe.StripeClient) -> None:
    customer = client.v1.customers.create(params={"email": "charge@example.com"})
    pi = paid(client, customer=customer.id, description="Lot 17", metadata={"order": "17"},
              receipt_email="buyer@example.com")
    charge = charge_of(client, pi)
    assert charge.id == "ch_" + pi.id.removeprefix("pi_")
    assert (charge.amount, charge.amount_captured, charge.amount_refunded) == (2000, 2000, 0)
    assert (charge.customer, charge.payment_intent, charge.description) == (
        customer.id, pi.id, "Lot 17")
    assert charge.metadata["order"] == "17"
    assert charge.receipt_email == "buyer@example.com"
    assert charge.receipt_url
    assert charge.refunds is not None and charge.refunds.data == []
    card = charge.payment_method_details.card  # type: ignore[union-attr]
    assert card is not None
    assert (card.brand, card.last4, card.network, card.country) == ("visa", "4242", "visa", "US")
    assert card.checks is not None and card.checks.cvc_check == "pass"
    assert card.three_d_secure is None
    outcome = charge.outcome
    assert outcome is not None
    assert (outcome.type, outcome.network_status, outcome.risk_level) == (
        "authorized", "approved_by_network", "normal")
    assert outcome.seller_message == "Payment complete."


def test_cvc_check_failure(client: stripe.StripeClient) -> None:
    charge = charge_of(client, paid(client, "pm_card_cvcCheckFail"))
    card = charge.payment_method_details.card  # type: ignore[union-attr]
    assert card is not None and card.checks is not None
    assert card.checks.cvc_check == "fail"
    assert charge.status == "succeeded"


def test_update_charge(client: stripe.StripeClient) -> None:
    charge = charge_of(client, paid(client))
    updated = client.v1.charges.update(
        charge.id, params={"description": "Renamed", "metadata": {"note": "x"}})
    assert (updated.description, updated.metadata["note"]) == ("Renamed", "x")
    assert event_types(client, charge.id, "charge.updated") == ["charge.updated"]


def test_list_charges(client: stripe.StripeClient) -> None:
    customer = client.v1.customers.create(params={"email": "charges@example.com"})
    first = paid(client, customer=customer.id)
    second = paid(client, customer=customer.id)
    by_customer = client.v1.charges.list(params={"customer": customer.id})
    assert [c.payment_intent for c in by_customer.data] == [second.id, first.id]
    by_intent = client.v1.charges.list(params={"payment_intent": first.id})
    assert [c.id for c in by_intent.data] == [first.latest_charge]


# -- refunds ----------------------------------------------------------------------------
def test_full_refund_by_payment_intent(client: stripe.StripeClient) -> None:
    pi = paid(client)
    refund = client.v1.refunds.create(
        params={"payment_intent": pi.id, "reason": "requested_by_customer",
                "expand": ["balance_transaction"]})
    assert refund.id.startswith("re_")
    assert (refund.amount, refund.status, refund.charge) == (2000, "succeeded", pi.latest_charge)
    assert refund.reason == "requested_by_customer"
    transaction = refund.balance_transaction
    assert isinstance(transaction, stripe.BalanceTransaction)
    assert (transaction.amount, transaction.type, transaction.fee) == (-2000, "refund", 0)
    charge = client.v1.charges.retrieve(str(pi.latest_charge), params={"expand": ["refunds"]})
    assert (charge.refunded, charge.amount_refunded) == (True, 2000)
    assert charge.refunds is not None and [r.id for r in charge.refunds.data] == [refund.id]
    assert event_types(client, charge.id, "charge.refunded") == ["charge.refunded"]
    assert event_types(client, refund.id, "refund.created") == ["refund.created"]


def test_partial_refunds_then_too_much(client: stripe.StripeClient) -> None:
    pi = paid(client, amount=250)
    first = client.v1.refunds.create(params={"charge": str(pi.latest_charge), "amount": 150})
    assert first.amount == 150
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.refunds.create(params={"payment_intent": pi.id, "amount": 150})
    assert raised.value.code == "amount_too_large"
    assert raised.value.param == "amount"
    assert raised.value.user_message == (
        "Refund amount ($1.50) is greater than unrefunded amount on charge ($1.00)")
    rest = client.v1.refunds.create(params={"payment_intent": pi.id})
    assert rest.amount == 100
    listed = client.v1.refunds.list(params={"charge": str(pi.latest_charge)})
    assert [r.id for r in listed.data] == [rest.id, first.id]
    raw = client.raw_request("get", f"/v1/charges/{pi.latest_charge}/refunds")
    by_charge: Any = client.deserialize(raw, api_mode="V1")
    assert [r.id for r in by_charge.data] == [rest.id, first.id]


def test_over_refund_in_a_zero_decimal_currency(client: stripe.StripeClient) -> None:
    pi = client.v1.payment_intents.create(params={
        "amount": 1000, "currency": "jpy", "confirm": True, "payment_method": "pm_card_visa"})
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.refunds.create(params={"payment_intent": pi.id, "amount": 1500})
    assert raised.value.user_message == (
        "Refund amount (¥1,500) is greater than unrefunded amount on charge (¥1,000)")


def test_already_refunded(client: stripe.StripeClient) -> None:
    pi = paid(client)
    client.v1.refunds.create(params={"payment_intent": pi.id})
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.refunds.create(params={"charge": str(pi.latest_charge)})
    assert raised.value.code == "charge_already_refunded"
    assert raised.value.user_message == f"Charge {pi.latest_charge} has already been refunded."


def test_refund_after_partial_capture(client: stripe.StripeClient) -> None:
    pi = paid(client, capture_method="manual")
    client.v1.payment_intents.capture(pi.id, params={"amount_to_capture": 1200})
    refund = client.v1.refunds.create(params={"payment_intent": pi.id})
    assert refund.amount == 1200
    assert client.v1.charges.retrieve(str(pi.latest_charge)).refunded is True


def test_refund_needs_a_successful_payment(client: stripe.StripeClient) -> None:
    pi = client.v1.payment_intents.create(params={"amount": 1000, "currency": "usd"})
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.refunds.create(params={"payment_intent": pi.id})
    assert raised.value.param == "payment_intent"


def test_update_refund_metadata(client: stripe.StripeClient) -> None:
    refund = client.v1.refunds.create(params={"payment_intent": paid(client).id})
    updated = client.v1.refunds.update(refund.id, params={"metadata": {"ticket": "T-1"}})
    assert updated.metadata is not None and updated.metadata["ticket"] == "T-1"
    assert event_types(client, refund.id, "refund.updated") == ["refund.updated"]


def test_pending_refund_settles_later(client: stripe.StripeClient,
                                     sandbox_server: RunningServer) -> None:
    refund = client.v1.refunds.create(params={"payment_intent": paid(client,
                                                                      "pm_card_pendingRefund").id})
    assert refund.status == "pending"
    advance_clock(sandbox_server, 180)
    assert client.v1.refunds.retrieve(refund.id).status == "succeeded"
    assert event_types(client, refund.id, "refund.*") == ["refund.created", "refund.updated"]


def test_failing_refund_fails_later(client: stripe.StripeClient,
                                    sandbox_server: RunningServer) -> None:
    pi = paid(client, "pm_card_refundFail")
    refund = client.v1.refunds.create(params={"payment_intent": pi.id})
    assert refund.status == "succeeded"
    advance_clock(sandbox_server, 180)
    failed = client.v1.refunds.retrieve(refund.id)
    assert failed.status == "failed"
    assert failed.failure_reason is not None
    assert failed.failure_balance_transaction is not None
    assert event_types(client, refund.id, "refund.failed") == ["refund.failed"]
    charge = client.v1.charges.retrieve(str(pi.latest_charge))
    assert (charge.amount_refunded, charge.refunded) == (0, False)


# -- balance transactions ---------------------------------------------------------------
def test_fees_and_availability(client: stripe.StripeClient,
                               sandbox_server: RunningServer) -> None:
    domestic = charge_of(client, paid(client, amount=10_000))
    transaction = client.v1.balance_transactions.retrieve(str(domestic.balance_transaction))
    assert (transaction.amount, transaction.fee, transaction.net) == (10_000, 320, 9_680)
    assert (transaction.type, transaction.reporting_category) == ("charge", "charge")
    assert transaction.source == domestic.id
    assert transaction.fee_details[0].type == "stripe_fee"
    assert transaction.status == "pending"
    assert transaction.available_on == transaction.created + 2 * 24 * 3600
    international = charge_of(client, paid(client, "pm_card_gb", amount=10_000))
    abroad = client.v1.balance_transactions.retrieve(str(international.balance_transaction))
    assert abroad.fee == 470
    bypass = charge_of(client, paid(client, "pm_card_bypassPending"))
    fast = client.v1.balance_transactions.retrieve(str(bypass.balance_transaction))
    assert fast.status == "available"
    advance_clock(sandbox_server, 2 * 24 * 3600)
    later = client.v1.balance_transactions.retrieve(transaction.id)
    assert later.status == "available"


def test_list_balance_transactions(client: stripe.StripeClient) -> None:
    pi = paid(client)
    refund = client.v1.refunds.create(params={"payment_intent": pi.id})
    by_source = client.v1.balance_transactions.list(params={"source": refund.id})
    assert [t.id for t in by_source.data] == [refund.balance_transaction]
    refunds = client.v1.balance_transactions.list(params={"type": "refund", "limit": 3})
    assert all(t.type == "refund" for t in refunds.data)
