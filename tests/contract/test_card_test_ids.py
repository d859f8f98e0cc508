"""Stripe's card test ids as real code uses them (https://docs.stripe.com/testing):
the un-branded decline ids, and one test id named twice in one request."""

from __future__ import annotations

import pytest
import stripe


@pytest.mark.parametrize(("alias", "decline_code"), [
    ("pm_card_chargeDeclined", "generic_decline"),
    ("pm_card_chargeDeclinedInsufficientFunds", "insufficient_funds"),
    ("pm_card_chargeDeclinedLostCard", "lost_card"),
    ("pm_card_chargeDeclinedStolenCard", "stolen_card"),
    ("pm_card_visa_chargeDeclined", "generic_decline"),
])
def test_unbranded_decline_ids_decline_payment_intents(
        client: stripe.StripeClient, alias: str, decline_code: str) -> None:
    with pytest.raises(stripe.CardError) as raised:
        client.v1.payment_intents.create(params={
            "amount": 64200, "currency": "usd", "payment_method": alias, "confirm": True,
            "automatic_payment_methods": {"enabled": True, "allow_redirects": "never"}})
    assert raised.value.error is not None
    assert raised.value.error.decline_code == decline_code


def test_one_test_id_named_twice_is_one_payment_method(client: stripe.StripeClient) -> None:
    """Stripe's subscription guides create customers this way."""
    customer = client.v1.customers.create(params={
        "payment_method": "pm_card_visa",
        "invoice_settings": {"default_payment_method": "pm_card_visa"}})
    assert customer.invoice_settings is not None
    default = customer.invoice_settings.default_payment_method
    assert isinstance(default, str) and default.startswith("pm_")
    attached = client.v1.customers.payment_methods.list(customer.id).data
    assert [pm.id for pm in attached] == [default]


def test_a_test_id_that_does_not_exist_is_refused(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.payment_intents.create(params={
            "amount": 64200, "currency": "usd", "payment_method": "pm_card_noSuchCard",
            "confirm": True,
            "automatic_payment_methods": {"enabled": True, "allow_redirects": "never"}})
    assert (raised.value.code, raised.value.param) == ("resource_missing", "payment_method")
