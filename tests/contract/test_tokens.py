"""Card tokens through the official SDK (https://docs.stripe.com/api/tokens): Stripe's
test tokens, tokens made from card details, and their single use."""

from __future__ import annotations

import pytest
import stripe


@pytest.mark.parametrize(("token", "brand", "last4"), [
    ("tok_visa", "Visa", "4242"), ("tok_mastercard", "MasterCard", "4444"),
    ("tok_amex", "American Express", "0005"), ("tok_chargeDeclined", "Visa", "0002"),
    ("tok_visa_chargeDeclinedInsufficientFunds", "Visa", "9995"),
])
def test_test_tokens_are_tokens(client: stripe.StripeClient, token: str, brand: str,
                                last4: str) -> None:
    found = client.v1.tokens.retrieve(token)
    assert (found.id, found.type, found.used) == (token, "card", False)
    assert found.card is not None
    assert (found.card.brand, found.card.last4) == (brand, last4)


def test_an_unknown_token_is_404(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.tokens.retrieve("tok_no_such_card")
    assert (raised.value.http_status, raised.value.code) == (404, "resource_missing")
    assert raised.value.user_message == "No such token: 'tok_no_such_card'"


def test_a_token_from_card_details_is_used_once(client: stripe.StripeClient) -> None:
    token = client.v1.tokens.create(params={"card": {
        "number": "5555555555554444", "exp_month": "12", "exp_year": "2031", "cvc": "123",
        "name": "Jenny Rosen", "address_zip": "94103"}})
    assert token.id.startswith("tok_") and token.used is False
    assert token.card is not None and token.card.name == "Jenny Rosen"
    customer = client.v1.customers.create(params={"source": token.id})
    card = client.v1.customers.payment_sources.retrieve(customer.id, str(customer.default_source))
    assert isinstance(card, stripe.Card)
    assert (card.id, card.last4, card.exp_year) == (token.card.id, "4444", 2031)
    assert client.v1.tokens.retrieve(token.id).used is True
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.charges.create(params={"amount": 1000, "currency": "usd",
                                         "source": token.id})
    assert raised.value.param == "source"
    assert raised.value.user_message == (
        f"You cannot use a Stripe token more than once: {token.id}.")


def test_card_details_are_checked(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.CardError) as raised:
        client.v1.tokens.create(params={"card": {
            "number": "4242424242424241", "exp_month": "12", "exp_year": "2031"}})
    assert (raised.value.code, raised.value.param) == ("incorrect_number", "number")
