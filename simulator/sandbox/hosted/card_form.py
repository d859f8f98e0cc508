"""Checking what a buyer typed into the hosted checkout form, as Checkout does in the
browser, and again on the server (a page can be bypassed; the server cannot).

Messages are the ones Stripe's card fields show (Stripe.js ``validation_error`` codes
``incomplete_number``, ``invalid_number``, ``incomplete_expiry``,
``invalid_expiry_year_past``, ``incomplete_cvc``, ``incomplete_zip``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from simulator.sandbox.cards import luhn_valid

# Countries whose Checkout form asks for a postal code.
POSTAL_CODE_COUNTRIES = frozenset({"US", "GB", "CA", "AU", "NZ", "IE"})
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True)
class CardInput:
    """A validated card entry. It lives only for the request that carries it."""

    number: str
    exp_month: int
    exp_year: int
    cvc: str
    name: str
    email: str | None
    country: str
    postal_code: str | None

    def __repr__(self) -> str:  # never print a card number, even by accident
        return f"CardInput(last4={self.number[-4:]}, exp={self.exp_month}/{self.exp_year})"


def digits(value: str) -> str:
    return re.sub(r"\D", "", value or "")


def expected_length(number: str) -> tuple[int, int]:
    """(card number length, CVC length) for the brand the number starts like."""
    if number.startswith(("34", "37")):
        return 15, 4
    if number.startswith(("300", "301", "302", "303", "304", "305", "36", "38")):
        return 14, 3
    return 16, 3


def parse_expiry(value: str) -> tuple[int, int] | None:
    """``12 / 34``, ``12/34``, ``1234`` or ``12/2034`` as (month, four-digit year)."""
    raw = digits(value)
    if len(raw) == 4:
        return int(raw[:2]), 2000 + int(raw[2:])
    if len(raw) == 6:
        return int(raw[:2]), int(raw[2:])
    return None


def validate(
    form: dict[str, str], *, year: int, month: int, email_required: bool
) -> tuple[CardInput | None, dict[str, str]]:
    """The card entry, or the message for each field that is wrong (field id -> text)."""
    errors: dict[str, str] = {}
    number = digits(form.get("cardNumber", ""))
    length, cvc_length = expected_length(number)
    if len(number) < length:
        errors["cardNumber"] = "Your card number is incomplete."
    elif len(number) > length or not luhn_valid(number):
        errors["cardNumber"] = "Your card number is invalid."
    expiry = parse_expiry(form.get("cardExpiry", ""))
    if expiry is None:
        errors["cardExpiry"] = "Your card's expiration date is incomplete."
    elif not 1 <= expiry[0] <= 12:
        errors["cardExpiry"] = "Your card's expiration date is invalid."
    elif expiry[1] < year or (expiry[1] == year and expiry[0] < month):
        errors["cardExpiry"] = "Your card's expiration year is in the past."
    elif expiry[1] > year + 50:
        errors["cardExpiry"] = "Your card's expiration year is invalid."
    cvc = digits(form.get("cardCvc", ""))
    if len(cvc) < cvc_length:
        errors["cardCvc"] = "Your card's security code is incomplete."
    elif len(cvc) > cvc_length:
        errors["cardCvc"] = "Your card's security code is invalid."
    name = (form.get("billingName") or "").strip()
    if not name:
        errors["billingName"] = "Your name is required."
    email = (form.get("email") or "").strip() or None
    if email_required and (email is None or not EMAIL.match(email)):
        errors["email"] = "Your email is incomplete." if not email else "Your email is invalid."
    country = (form.get("billingCountry") or "US").strip().upper()
    postal = (form.get("billingPostalCode") or "").strip() or None
    if country in POSTAL_CODE_COUNTRIES and not postal:
        errors["billingPostalCode"] = "Your postal code is incomplete."
    if errors or expiry is None:
        return None, errors
    card = CardInput(number, expiry[0], expiry[1], cvc, name, email, country, postal)
    return card, {}
