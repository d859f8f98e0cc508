"""3-D Secure: above $500 the marketplace asks Stripe to authenticate the buyer
(``request_three_d_secure=any``); below it Stripe and the card's bank decide
(``automatic``: https://docs.stripe.com/payments/3d-secure/authentication-flow).
The decline steps are reused: a failed challenge is a declined payment."""

from __future__ import annotations

import os
from typing import Any

import stripe
from pytest_bdd import then

from harness.marketplace import Marketplace, WonLot
from harness.pages.checkout import CheckoutPage
from harness.pages.service import ServicePages
from harness.steps.declines import *  # noqa: F403
from simulator.service.domain.transaction import Transaction


def _stripe(marketplace: Marketplace) -> stripe.StripeClient:
    if marketplace.sandbox is not None:
        return marketplace.sandbox.sdk
    return stripe.StripeClient(os.environ["STRIPE_SECRET_KEY"])


def _payment(marketplace: Marketplace, won: WonLot) -> Transaction:
    transactions = marketplace.transactions(won)
    assert len(transactions) == 1, transactions
    return transactions[0]


def _payment_intent(marketplace: Marketplace, won: WonLot) -> dict[str, Any]:
    intent_id = _payment(marketplace, won).payment_intent_id
    intent: dict[str, Any] = _stripe(marketplace).v1.payment_intents.retrieve(
        str(intent_id)).to_dict()
    return intent


def _intents_that_awaited_authentication(marketplace: Marketplace) -> set[str]:
    """PaymentIntents Stripe sent to ``requires_action`` (a 3-D Secure challenge)."""
    events = _stripe(marketplace).v1.events.list(
        params={"type": "payment_intent.requires_action", "limit": 100})
    return {event.to_dict()["data"]["object"]["id"] for event in events.auto_paging_iter()}


@then("the buyer's bank asks them to authenticate")
def bank_asks_to_authenticate(pages: ServicePages) -> None:
    assert CheckoutPage(pages.page).challenge() is not None


@then("the payment was authenticated by the buyer's bank")
def payment_authenticated(marketplace: Marketplace, won: WonLot) -> None:
    assert _payment(marketplace, won).three_d_secure_result == "authenticated"


@then("the buyer's bank did not ask them to authenticate")
def bank_did_not_ask(marketplace: Marketplace, won: WonLot) -> None:
    """No challenge on the charge, and the PaymentIntent never waited for one."""
    assert _payment(marketplace, won).three_d_secure_result is None
    intent_id = _payment(marketplace, won).payment_intent_id
    assert intent_id not in _intents_that_awaited_authentication(marketplace)


@then("the marketplace asked Stripe for 3-D Secure")
def marketplace_requested_3ds(marketplace: Marketplace, won: WonLot) -> None:
    options = _payment_intent(marketplace, won)["payment_method_options"]["card"]
    assert options["request_three_d_secure"] == "any"


@then("the marketplace left 3-D Secure to the card's bank")
def marketplace_left_3ds_to_bank(marketplace: Marketplace, won: WonLot) -> None:
    options = _payment_intent(marketplace, won)["payment_method_options"]["card"]
    assert options["request_three_d_secure"] == "automatic"
