"""A payment by bank debit end to end over real HTTP: the buyer confirms on Stripe's page,
the service shows the payment as processing (no order yet), and the bank's answer, days
later on Stripe and minutes later on the sandbox clock, makes the order or a failure the
buyer can retry (https://docs.stripe.com/checkout/fulfillment#delayed-notification)."""

from __future__ import annotations

from integration_support import Marketplace, eventually

SLOW_SUCCESS = "AT321904300235473204"  # settles after three minutes
REFUSED = "AT861904300235473202"  # the bank refuses it: insufficient funds
SETTLES_AFTER = 180


def bank_account(market: Marketplace, iban: str) -> str:
    method = market.sandbox.sdk.v1.payment_methods.create(params={
        "type": "sepa_debit", "sepa_debit": {"iban": iban},
        "billing_details": {"name": "Alice Buyer", "email": "alice@example.test"}})
    return str(method.id)


def test_a_debit_is_processing_then_paid(market: Marketplace) -> None:
    win = market.win(88, 310_000, currency="eur", title="Oil on canvas, harbour at dusk")
    started = market.start(win)

    market.pay(started["payment_session_id"], bank_account(market, SLOW_SUCCESS))

    assert eventually(lambda: market.status(started["payment_session_id"])["status"]
                      == "processing", market.sandbox.drain)
    assert market.orders(win) == [] or market.orders(win)[0].status == "created"
    assert market.transactions(win) == []

    market.advance(SETTLES_AFTER)

    assert eventually(lambda: market.status(started["payment_session_id"])["status"]
                      == "succeeded", market.sandbox.drain)
    [order] = market.orders(win)
    [txn] = market.transactions(win)
    assert order.status == "paid" and (txn.amount, txn.currency) == (310_000, "eur")
    assert market.inbox_failures() == []


def test_a_debit_the_bank_refuses_fails_and_can_be_retried(market: Marketplace) -> None:
    win = market.win(89, 31_000, currency="eur")
    started = market.start(win)
    market.pay(started["payment_session_id"], bank_account(market, REFUSED))
    market.advance(1)  # the bank's answer, at the sandbox's next tick

    assert eventually(lambda: market.status(started["payment_session_id"])["status"]
                      == "failed", market.sandbox.drain)
    status = market.status(started["payment_session_id"])
    assert status["attempts_left"] >= 1 and "insufficient funds" in str(
        status["failure_reason"]).lower()
    assert market.transactions(win) == [] and all(o.status != "paid" for o in market.orders(win))
