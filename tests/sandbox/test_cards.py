"""The test-card catalogue: Luhn, brands, lookups and each card's behaviour."""

from __future__ import annotations

import pytest

from simulator.sandbox import cards
from simulator.sandbox.cards import Behaviour, ThreeDS


@pytest.mark.parametrize(
    "number", ["4242424242424242", "378282246310005", "6205500000000000004", "36227206271667"]
)
def test_luhn_accepts_valid_numbers(number: str) -> None:
    assert cards.luhn_valid(number)


@pytest.mark.parametrize("number", ["4242424242424241", "424242", "4242a24242424242", ""])
def test_luhn_refuses_invalid_numbers(number: str) -> None:
    assert not cards.luhn_valid(number)


@pytest.mark.parametrize(
    ("number", "brand"),
    [
        ("4111111111111111", "visa"),
        ("5105105105105100", "mastercard"),
        ("2223003122003222", "mastercard"),
        ("378282246310005", "amex"),
        ("6011000990139424", "discover"),
        ("3056930009020004", "diners"),
        ("3566002020360505", "jcb"),
        ("6200000000000005", "unionpay"),
        ("9999999999999995", "unknown"),
    ],
)
def test_brand_from_iin(number: str, brand: str) -> None:
    assert cards.brand_for(number) == brand


def test_fingerprint_is_stable_and_short() -> None:
    first = cards.fingerprint("4242424242424242")
    assert first == cards.fingerprint("4242424242424242")
    assert first != cards.fingerprint("4000056655665556")
    assert len(first) == 16 and first.isalnum()


def test_catalogue_holds_every_card() -> None:
    assert len(cards.catalogue().by_number) == 142


def test_lookup_by_payment_method_id_and_token() -> None:
    visa = cards.by_payment_method_id("pm_card_visa")
    assert visa is not None and visa.number == "4242424242424242"
    assert cards.by_token("tok_visa") == visa
    assert cards.by_payment_method_id("pm_card_nope") is None
    assert cards.by_token("pm_card_visa") is None


def test_country_pattern_for_payment_method_ids() -> None:
    australia = cards.by_payment_method_id("pm_card_au")
    assert australia is not None
    assert (australia.country, australia.brand) == ("AU", "visa")


def test_alias_ids_from_the_notes() -> None:
    hsa = cards.by_payment_method_id("pm_card_debit_visaHsaProductCode")
    assert hsa is not None and hsa.funding == "debit"


def test_unknown_numbers_are_plain_successful_cards() -> None:
    profile = cards.by_number("4111111111111111")
    assert profile.behaviour is Behaviour.SUCCESS
    assert (profile.brand, profile.country, profile.funding) == ("visa", "US", "credit")


@pytest.mark.parametrize(
    ("number", "code", "decline_code", "param"),
    [
        ("4000000000000002", "card_declined", "generic_decline", None),
        ("4000000000009995", "card_declined", "insufficient_funds", None),
        ("4000000000009987", "card_declined", "lost_card", None),
        ("4000000000009979", "card_declined", "stolen_card", None),
        ("4000000000000069", "expired_card", "expired_card", "exp_month"),
        ("4000000000000127", "incorrect_cvc", "incorrect_cvc", "cvc"),
        ("4000000000000119", "processing_error", "processing_error", None),
        ("4000000000006975", "card_declined", "card_velocity_exceeded", None),
    ],
)
def test_issuer_declines(number: str, code: str, decline_code: str, param: str | None) -> None:
    profile = cards.by_number(number)
    assert profile.behaviour is Behaviour.DECLINE
    assert profile.declines_on_attach
    assert profile.decline is not None
    assert (profile.decline.code, profile.decline.decline_code, profile.decline.param) == (
        code, decline_code, param)


def test_decline_messages() -> None:
    assert cards.by_number("4000000000009995").decline.message == (  # type: ignore[union-attr]
        "Your card has insufficient funds.")
    assert cards.by_number("4000000000000119").decline.message == (  # type: ignore[union-attr]
        "An error occurred while processing your card. Try again in a little bit.")


def test_attach_succeeds_then_charges_fail() -> None:
    profile = cards.by_number("4000000000000341")
    assert profile.behaviour is Behaviour.DECLINE_AFTER_ATTACH
    assert not profile.declines_on_attach
    assert profile.decline is not None and profile.decline.decline_code == "generic_decline"


@pytest.mark.parametrize("number", ["4100000000000019", "4000000000004954"])
def test_radar_blocks_the_highest_risk(number: str) -> None:
    profile = cards.by_number(number)
    assert profile.behaviour is Behaviour.RADAR_BLOCK
    assert profile.risk_level == "highest"
    assert profile.decline is not None and profile.decline.decline_code == "fraudulent"


def test_elevated_risk_succeeds() -> None:
    profile = cards.by_number("4000000000009235")
    assert profile.behaviour is Behaviour.ELEVATED_RISK
    assert profile.decline is None and profile.risk_level == "elevated"


@pytest.mark.parametrize(
    ("number", "checks"),
    [
        ("4000000000000101", ("fail", "pass", "pass")),
        ("4000000000000036", ("pass", "pass", "fail")),
        ("4000000000000028", ("pass", "fail", "pass")),
        ("4000000000000010", ("pass", "fail", "fail")),
        ("4000000000000044", ("pass", "unavailable", "unavailable")),
    ],
)
def test_check_failures(number: str, checks: tuple[str, str, str]) -> None:
    profile = cards.by_number(number)
    assert profile.behaviour is Behaviour.CHECK_FAILURE
    assert (profile.cvc_check, profile.line1_check, profile.postal_check) == checks


@pytest.mark.parametrize(
    ("number", "three_ds"),
    [
        ("4000002500003155", ThreeDS.REQUIRED_UNLESS_SET_UP),
        ("4000002760003184", ThreeDS.REQUIRED),
        ("4000003800000446", ThreeDS.REQUIRED_ON_SESSION),
        ("4000000000003220", ThreeDS.REQUIRED),
        ("4000000032200000", ThreeDS.FRICTIONLESS),
        ("4000008400001280", ThreeDS.LOOKUP_ERROR),
        ("4000000000003055", ThreeDS.OPTIONAL),
        ("4000000000003097", ThreeDS.OPTIONAL_ERROR),
        ("378282246310005", ThreeDS.NOT_SUPPORTED),
    ],
)
def test_three_d_secure_requirements(number: str, three_ds: ThreeDS) -> None:
    assert cards.by_number(number).three_ds is three_ds


def test_decline_after_authentication() -> None:
    profile = cards.by_number("4000008260003178")
    assert profile.behaviour is Behaviour.REQUIRES_3DS
    assert profile.decline is None
    assert profile.decline_after_auth is not None
    assert profile.decline_after_auth.decline_code == "insufficient_funds"


def test_refund_and_balance_behaviours() -> None:
    assert cards.by_number("4000000000007726").behaviour is Behaviour.PENDING_REFUND
    assert cards.by_number("4000000000005126").behaviour is Behaviour.REFUND_FAILS
    assert cards.by_number("4000000000000077").bypasses_pending


def test_countries_and_funding() -> None:
    assert cards.by_number("4000056655665556").funding == "debit"
    assert cards.by_number("5105105105105100").funding == "prepaid"
    assert cards.by_number("4000000000009995").funding == "credit"
    assert cards.by_number("3566002020360505").country == "JP"
    assert cards.by_number("4000002500003155").country == "FR"
    assert cards.by_number("4000000000003220").country == "IE"
