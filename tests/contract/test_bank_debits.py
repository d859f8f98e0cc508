"""Delayed-notification bank debits through the official SDK: ``sepa_debit`` and
``us_bank_account`` PaymentMethods from the test accounts, PaymentIntents that go
``processing`` and settle on the sandbox clock (succeeded, or failed with the bank's
reason), and a Checkout Session paid this way reporting the outcome later
(https://docs.stripe.com/payments/payment-methods#payment-notification)."""

from __future__ import annotations

from typing import Any

import pytest
import requests
import stripe

from harness.servers import RunningServer

SEPA_OK, SEPA_FAILS = "AT611904300234573201", "AT861904300235473202"
SEPA_SLOW = "AT321904300235473204"  # settles after three minutes of the sandbox clock
HOLDER = {"name": "Jenny Rosen", "email": "jenny@example.com"}


def settle(server: RunningServer, seconds: int = 180) -> None:
    """The bank answers: move the sandbox clock past the debit's settlement."""
    requests.post(f"{server.url}/_sandbox/clock/advance", data={"seconds": seconds},
                  timeout=30).raise_for_status()


def sepa(client: stripe.StripeClient, iban: str) -> Any:
    return client.v1.payment_methods.create(params={
        "type": "sepa_debit", "sepa_debit": {"iban": iban}, "billing_details": HOLDER})


def debit(client: stripe.StripeClient, payment_method: str, currency: str = "eur",
          method: str = "sepa_debit") -> Any:
    return client.v1.payment_intents.create(params={
        "amount": 64_200, "currency": currency, "payment_method": payment_method,
        "allowed_payment_method_types": [method], "confirm": True,
        "mandate_data": {"customer_acceptance": {"type": "offline"}}})


def events_for(client: stripe.StripeClient, event_type: str, object_id: str) -> list[Any]:
    found = client.v1.events.list(params={"type": event_type, "limit": 100}).data
    return [e for e in found if e.data.object["id"] == object_id]


def test_a_sepa_debit_is_processing_then_succeeds(client: stripe.StripeClient,
                                                  sandbox_server: RunningServer) -> None:
    method = sepa(client, SEPA_SLOW)
    assert method.type == "sepa_debit" and method.sepa_debit.last4 == "3204"
    assert method.sepa_debit.country == "AT" and "card" not in method.to_dict()

    intent = debit(client, method.id)
    assert intent.status == "processing"
    charge = client.v1.charges.retrieve(str(intent.latest_charge))
    assert charge.status == "pending" and charge.payment_method_details.type == "sepa_debit"
    assert len(events_for(client, "payment_intent.processing", intent.id)) == 1

    settle(sandbox_server)

    done = client.v1.payment_intents.retrieve(intent.id)
    assert done.status == "succeeded" and done.amount_received == 64_200
    paid = client.v1.charges.retrieve(str(intent.latest_charge))
    assert paid.status == "succeeded" and paid.captured and paid.balance_transaction
    assert len(events_for(client, "payment_intent.succeeded", intent.id)) == 1


def test_a_failing_account_fails_later_with_the_banks_reason(
        client: stripe.StripeClient, sandbox_server: RunningServer) -> None:
    intent = debit(client, sepa(client, SEPA_FAILS).id)
    assert intent.status == "processing"

    settle(sandbox_server)

    failed = client.v1.payment_intents.retrieve(intent.id)
    assert failed.status == "requires_payment_method"
    assert failed.last_payment_error.code == "insufficient_funds"
    charge = client.v1.charges.retrieve(str(intent.latest_charge))
    assert charge.status == "failed" and charge.failure_code == "insufficient_funds"
    assert len(events_for(client, "payment_intent.payment_failed", intent.id)) == 1


def test_ach_test_accounts(client: stripe.StripeClient, sandbox_server: RunningServer) -> None:
    def account(number: str) -> Any:
        return client.v1.payment_methods.create(params={
            "type": "us_bank_account", "billing_details": HOLDER,
            "us_bank_account": {"routing_number": "110000000", "account_number": number,
                                "account_holder_type": "individual"}})

    ok = debit(client, account("000123456789").id, "usd", "us_bank_account")
    closed = debit(client, account("000111111113").id, "usd", "us_bank_account")
    assert (ok.status, closed.status) == ("processing", "processing")

    settle(sandbox_server)

    assert client.v1.payment_intents.retrieve(ok.id).status == "succeeded"
    refused = client.v1.payment_intents.retrieve(closed.id)
    assert refused.last_payment_error.code == "account_closed"


def test_checkout_reports_the_outcome_of_a_debit_later(client: stripe.StripeClient,
                                                       sandbox_server: RunningServer) -> None:
    product = client.v1.products.create(params={"name": "Oil on canvas"})
    price = client.v1.prices.create(params={"product": product.id, "unit_amount": 31_000,
                                            "currency": "eur"})
    session = client.v1.checkout.sessions.create(params={
        "mode": "payment", "success_url": "https://shop.test/ok",
        "line_items": [{"price": price.id, "quantity": 1}],
        "allowed_payment_method_types": ["sepa_debit"]})
    method = sepa(client, SEPA_SLOW)
    paid = requests.post(f"{sandbox_server.url}/_sandbox/checkout/sessions/{session.id}/complete",
                         data={"payment_method": method.id}, timeout=30)
    assert paid.status_code == 200, paid.text

    completed = client.v1.checkout.sessions.retrieve(session.id)
    assert (completed.status, completed.payment_status) == ("complete", "unpaid")
    settle(sandbox_server)

    assert client.v1.checkout.sessions.retrieve(session.id).payment_status == "paid"
    assert len(events_for(client, "checkout.session.async_payment_succeeded", session.id)) == 1


@pytest.mark.parametrize(("params", "param"), [
    ({"type": "sepa_debit", "sepa_debit": {"iban": "AT611904300234573200"},
      "billing_details": HOLDER}, "sepa_debit[iban]"),
    ({"type": "sepa_debit", "sepa_debit": {"iban": SEPA_OK}}, "billing_details[name]"),
    ({"type": "us_bank_account", "billing_details": HOLDER,
      "us_bank_account": {"routing_number": "110000001", "account_number": "000123456789"}},
     "us_bank_account[routing_number]"),
    ({"type": "us_bank_account", "billing_details": HOLDER,
      "us_bank_account": {"routing_number": "110000000", "account_number": "12"}},
     "us_bank_account[account_number]"),
])
def test_invalid_accounts_are_refused(client: stripe.StripeClient, params: dict[str, Any],
                                      param: str) -> None:
    with pytest.raises(stripe.InvalidRequestError) as refused:
        client.v1.payment_methods.create(params=params)  # type: ignore[arg-type]
    assert refused.value.http_status == 400 and refused.value.param == param


def test_a_debit_in_the_wrong_currency_is_refused(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as refused:
        debit(client, sepa(client, SEPA_OK).id, currency="usd")
    assert refused.value.param == "currency" and "eur" in str(refused.value.user_message)
