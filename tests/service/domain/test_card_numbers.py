"""Card numbers found and masked wherever free text goes: 13 to 19 digits, grouped by
spaces or dashes or not at all, passing Luhn; after masking none is left."""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from simulator.service.domain.card_numbers import (
    contains_card_number,
    find_card_numbers,
    is_card_number,
    luhn_valid,
    mask_card_numbers,
    mask_card_numbers_in_json,
    mask_in,
)

VISA = "4242424242424242"
AMEX = "378282246310005"  # 15 digits
DINERS = "36227206271667"  # 14 digits
UNIONPAY_19 = "6205500000000000004"  # 19 digits
TEST_CARDS = (VISA, "4000002760003184", "5555555555554444", AMEX, DINERS, UNIONPAY_19)


def luhn_check_digit(body: str) -> str:
    """The digit that makes ``body + digit`` pass Luhn."""
    return next(d for d in "0123456789" if luhn_valid(body + d))


def every_luhn_number(text: str) -> list[str]:
    """Written apart from the module: every sequence of whole groups of digits (joined
    by one space or dash) with 13 to 19 digits that passes Luhn, not inside a word."""
    found = []
    for run in re.finditer(r"(?<![0-9A-Za-z])[0-9]+(?:[ -][0-9]+)*(?![0-9A-Za-z])", text):
        groups = re.split(r"[ -]", run.group())
        for first in range(len(groups)):
            for last in range(first, len(groups)):
                digits = "".join(groups[first:last + 1])
                if 13 <= len(digits) <= 19 and luhn_valid(digits):
                    found.append(digits)
    return found


@pytest.mark.parametrize("number", TEST_CARDS)
def test_stripe_test_cards_pass_luhn(number: str) -> None:
    assert luhn_valid(number) and is_card_number(number)


@pytest.mark.parametrize("number", ["4242424242424241", "1234567890123", "0" * 12,
                                    "4242 4242 4242", "4242  4242 4242 4242"])
def test_what_is_not_a_card_number(number: str) -> None:
    assert not is_card_number(number)


@pytest.mark.parametrize(("typed", "masked"), [
    ("4242424242424242", "************4242"),
    ("4242 4242 4242 4242", "**** **** **** 4242"),
    ("4242-4242-4242-4242", "****-****-****-4242"),
    ("Ada 3782 822463 10005 Lovelace", "Ada **** ****** *0005 Lovelace"),
    ("card:4242424242424242.", "card:************4242."),
])
def test_a_card_number_keeps_only_its_last_four_digits(typed: str, masked: str) -> None:
    assert mask_card_numbers(typed) == masked
    assert not contains_card_number(mask_card_numbers(typed))


def test_a_number_typed_with_its_expiry_and_cvc_is_still_found() -> None:
    typed = "4242424242424242 12 34 123"

    masked = mask_card_numbers(typed)

    assert VISA not in re.sub(r"\D", "", masked)
    assert every_luhn_number(masked) == []


@pytest.mark.parametrize("text", [
    "Order ord_17 for lot 17 paid at 1763733780 ($642.00)",
    "Call 555-0100 or +44 20 7946 0958",  # too few digits
    "4242424242424241",  # fails Luhn
    "4242424242424242424242",  # one group of 22 digits: no card number
    "cs_test_a1B2c3D4e5F6g7H8",
])
def test_text_without_a_card_number_is_left_alone(text: str) -> None:
    assert mask_card_numbers(text) is text
    assert find_card_numbers(text) == []


def test_each_match_says_where_it_is() -> None:
    [match] = find_card_numbers("pay 4242 4242 4242 4242 now")
    assert (match.start, match.end, match.digits, match.last4) == (4, 23, VISA, "4242")


def test_json_values_and_keys_are_masked_and_stay_valid_json() -> None:
    payload = json.dumps({"data": {"object": {
        "customer_details": {"name": "4242 4242 4242 4242", "email": "ada@example.com"},
        "amount_total": 64200, "created": 1763733780, VISA: [AMEX, 17]}}})

    masked = json.loads(mask_card_numbers_in_json(payload))

    details = masked["data"]["object"]
    assert details["customer_details"]["name"] == "**** **** **** 4242"
    assert details["amount_total"] == 64200 and details["created"] == 1763733780
    assert details["************4242"] == ["***********0005", 17]
    assert every_luhn_number(json.dumps(masked)) == []


def test_json_without_card_numbers_is_returned_as_it_was() -> None:
    payload = '{"id": "evt_1",   "amount": 64200}'
    assert mask_card_numbers_in_json(payload) is payload
    value = {"a": [1, "two", {"three": 3}]}
    assert mask_in(value) is value


def test_an_integer_that_is_a_card_number_is_masked() -> None:
    assert mask_in({"n": int(VISA)}) == {"n": "************4242"}


@given(st.sampled_from(TEST_CARDS), st.text(max_size=30), st.text(max_size=30),
       st.sampled_from(["", " ", "-"]))
def test_no_card_number_survives_masking(number: str, before: str, after: str,
                                         separator: str) -> None:
    grouped = separator.join(number[i:i + 4] for i in range(0, len(number), 4))
    text = f"{before}_{grouped}_{after}"

    masked = mask_card_numbers(text)

    assert every_luhn_number(masked) == []
    assert number[-4:] in re.sub(r"[ *-]", "", masked)
    assert len(masked) == len(text)


@given(st.lists(st.integers(0, 9), min_size=12, max_size=18), st.text(max_size=20))
def test_any_luhn_valid_number_is_found(body: list[int], around: str) -> None:
    digits = "".join(map(str, body))
    number = digits + luhn_check_digit(digits)
    text = f"{around}_{number}_{around}"

    assert contains_card_number(text)
    assert every_luhn_number(mask_card_numbers(text)) == []


@given(st.text(alphabet="0123456789 -abc", max_size=60))
def test_masking_never_leaves_a_luhn_valid_number(text: str) -> None:
    masked = mask_card_numbers(text)

    assert every_luhn_number(masked) == []
    assert len(masked) == len(text)
    assert mask_card_numbers(masked) == masked  # masking twice changes nothing more


def test_digits_inside_a_word_are_not_a_card_number() -> None:
    digest = "37219672475160ab" + "0" * 48  # 14 digits that pass Luhn, then hex
    assert luhn_valid("37219672475160")
    for text in (digest, f"cs_test_a{4242424242424242}Z", f"evt_{4242424242424242}x"):
        assert find_card_numbers(text) == []
        assert mask_card_numbers(text) == text
    assert mask_card_numbers("name: 4242424242424242.") == "name: ************4242."
