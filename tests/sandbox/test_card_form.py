"""The hosted page's form checks, as the server repeats them."""

from __future__ import annotations

from simulator.sandbox.hosted.card_form import parse_expiry, validate

GOOD = {
    "cardNumber": "4242 4242 4242 4242",
    "cardExpiry": "12 / 34",
    "cardCvc": "123",
    "billingName": "Ada Lovelace",
    "email": "ada@example.com",
    "billingCountry": "US",
    "billingPostalCode": "94107",
}


def check(**changes: str) -> dict[str, str]:
    _, errors = validate({**GOOD, **changes}, year=2026, month=11, email_required=True)
    return errors


def test_a_good_card_passes_and_hides_its_number_when_printed() -> None:
    card, errors = validate(GOOD, year=2026, month=11, email_required=True)
    assert errors == {}
    assert card is not None and (card.exp_month, card.exp_year) == (12, 2034)
    assert "4242424242424242" not in repr(card)


def test_each_field_has_stripe_s_message() -> None:
    assert check(cardNumber="4242 4242")["cardNumber"] == "Your card number is incomplete."
    assert check(cardNumber="4242424242424241")["cardNumber"] == "Your card number is invalid."
    assert check(cardExpiry="12")["cardExpiry"] == "Your card's expiration date is incomplete."
    assert check(cardExpiry="13 / 30")["cardExpiry"] == "Your card's expiration date is invalid."
    assert check(cardExpiry="10 / 26")["cardExpiry"] == (
        "Your card's expiration year is in the past."
    )
    assert check(cardCvc="12")["cardCvc"] == "Your card's security code is incomplete."
    assert check(billingName=" ")["billingName"] == "Your name is required."
    assert check(email="nope")["email"] == "Your email is invalid."
    assert check(billingPostalCode="")["billingPostalCode"] == "Your postal code is incomplete."


def test_amex_wants_fifteen_digits_and_a_four_digit_cvc() -> None:
    assert check(cardNumber="3782 822463 10005", cardCvc="1234") == {}
    assert check(cardNumber="3782 822463 10005", cardCvc="123")["cardCvc"] == (
        "Your card's security code is incomplete."
    )


def test_this_month_is_still_valid_and_postal_code_only_where_asked() -> None:
    assert check(cardExpiry="11 / 26") == {}
    assert check(billingCountry="DE", billingPostalCode="") == {}


def test_expiry_formats() -> None:
    assert parse_expiry("12 / 34") == (12, 2034)
    assert parse_expiry("1234") == (12, 2034)
    assert parse_expiry("12/2034") == (12, 2034)
    assert parse_expiry("1") is None
