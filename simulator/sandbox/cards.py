"""Stripe's test cards (https://docs.stripe.com/testing), loaded from ``data/test-cards.json``.

Each number in the catalogue becomes a :class:`CardProfile`: its brand, issuing country
and funding, and what the sandbox does when the card is attached, authenticated and
charged (declines with Stripe's codes and wording, 3-D Secure requirements, Radar risk,
CVC and address checks, refund behaviour). Numbers outside the catalogue that pass the
Luhn check behave as a plain successful card whose brand comes from its IIN.

A card is found by number, by ``pm_card_*`` id (https://docs.stripe.com/testing#cards:
"pm_card_visa", and the ``pm_card_<country>`` pattern), by ``tok_*`` token, or by the
fingerprint stored on a PaymentMethod: the sandbox never keeps a card number, so the
fingerprint is the catalogue key that brings a stored card's behaviour back.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from dataclasses import dataclass, replace
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Any, Literal

CATALOGUE_PATH = Path(__file__).parent / "data" / "test-cards.json"

Check = Literal["pass", "fail", "unavailable"]
RiskLevel = Literal["normal", "elevated", "highest"]
Funding = Literal["credit", "debit", "prepaid", "unknown"]


class Behaviour(StrEnum):
    """What a test card is for, in one word (the details live on :class:`CardProfile`)."""

    SUCCESS = "success"
    DECLINE = "decline"  # the issuer declines every charge, and attaching it
    DECLINE_AFTER_ATTACH = "decline_after_attach"  # attaches, then every charge fails
    INCORRECT_NUMBER = "incorrect_number"  # fails the Luhn check
    RADAR_BLOCK = "radar_block"  # risk level highest: Radar's default rule blocks it
    ELEVATED_RISK = "elevated_risk"
    CHECK_FAILURE = "check_failure"  # CVC or address checks fail; the charge succeeds
    REQUIRES_3DS = "requires_3ds"
    FRICTIONLESS_3DS = "frictionless_3ds"
    PENDING_REFUND = "pending_refund"
    REFUND_FAILS = "refund_fails"
    DISPUTE = "dispute"
    BYPASS_PENDING = "bypass_pending"


class ThreeDS(StrEnum):
    """How a card meets 3-D Secure (https://docs.stripe.com/testing#regulatory-cards)."""

    NOT_SUPPORTED = "not_supported"
    OPTIONAL = "optional"  # supported; asked for only with request_three_d_secure
    OPTIONAL_ERROR = "optional_error"  # supported, but an attempt ends in a processing error
    REQUIRED = "required"  # every payment, on or off session
    REQUIRED_UNLESS_SET_UP = "required_unless_set_up"  # off-session is fine once saved
    REQUIRED_ON_SESSION = "required_on_session"  # off-session payments never need it
    FRICTIONLESS = "frictionless"  # required, completed without a challenge
    LOOKUP_ERROR = "lookup_error"  # required, the lookup fails and the payment is declined

    @property
    def required(self) -> bool:
        return self in (
            ThreeDS.REQUIRED, ThreeDS.REQUIRED_UNLESS_SET_UP, ThreeDS.REQUIRED_ON_SESSION
        )

    @property
    def supported(self) -> bool:
        return self is not ThreeDS.NOT_SUPPORTED


@dataclass(frozen=True)
class Decline:
    """A card error as Stripe returns it (https://docs.stripe.com/declines/codes)."""

    code: str
    decline_code: str
    message: str
    param: str | None = None
    advice_code: str | None = None


# Stripe's customer-facing messages per decline code (https://docs.stripe.com/declines/codes).
DECLINE_MESSAGES = {
    "generic_decline": "Your card was declined.",
    "insufficient_funds": "Your card has insufficient funds.",
    "lost_card": "Your card was declined.",
    "stolen_card": "Your card was declined.",
    "fraudulent": "Your card was declined.",
    "card_velocity_exceeded": (
        "Your card was declined for making repeated attempts too frequently or exceeding its"
        " amount limit."
    ),
    "expired_card": "Your card has expired.",
    "incorrect_cvc": "Your card's security code is incorrect.",
    "processing_error": "An error occurred while processing your card. Try again in a little bit.",
    "authentication_required": "Your card was declined. This transaction requires authentication.",
}
_DECLINE_PARAMS = {"expired_card": "exp_month", "incorrect_cvc": "cvc"}
_ADVICE = {
    "insufficient_funds": "try_again_later",
    "card_velocity_exceeded": "try_again_later",
    "processing_error": "try_again_later",
    "lost_card": "do_not_try_again",
    "stolen_card": "do_not_try_again",
    "fraudulent": "do_not_try_again",
    "expired_card": "confirm_card_data",
    "incorrect_cvc": "confirm_card_data",
}


def decline(decline_code: str, code: str = "card_declined") -> Decline:
    return Decline(
        code=code,
        decline_code=decline_code,
        message=DECLINE_MESSAGES.get(decline_code, DECLINE_MESSAGES["generic_decline"]),
        param=_DECLINE_PARAMS.get(code),
        advice_code=_ADVICE.get(decline_code),
    )


AUTHENTICATION_REQUIRED = decline("authentication_required", "authentication_required")
PROCESSING_ERROR = decline("processing_error", "processing_error")


@dataclass(frozen=True)
class CardProfile:
    number: str
    brand: str
    country: str
    funding: Funding
    behaviour: Behaviour = Behaviour.SUCCESS
    three_ds: ThreeDS = ThreeDS.OPTIONAL
    decline: Decline | None = None  # at authorization (and at attach for Behaviour.DECLINE)
    decline_after_auth: Decline | None = None  # once 3-D Secure has passed
    risk_level: RiskLevel = "normal"
    cvc_check: Check = "pass"
    line1_check: Check = "pass"
    postal_check: Check = "pass"
    payment_method: str | None = None

    @property
    def last4(self) -> str:
        return self.number[-4:]

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.number)

    @property
    def declines_on_attach(self) -> bool:
        """"Cards that simulate issuer declines cannot be attached to a Customer"."""
        return self.behaviour is Behaviour.DECLINE

    @property
    def networks(self) -> list[str]:
        return [_NETWORKS.get(self.brand, self.brand)]

    @property
    def display_brand(self) -> str:
        return _DISPLAY_BRANDS.get(self.brand, self.brand)

    @property
    def bypasses_pending(self) -> bool:
        return self.behaviour is Behaviour.BYPASS_PENDING


_NETWORKS = {"amex": "amex", "diners": "diners", "unionpay": "unionpay"}
_DISPLAY_BRANDS = {
    "amex": "american_express",
    "diners": "diners_club",
    "unionpay": "union_pay",
    "unknown": "other",
}


# -- numbers ----------------------------------------------------------------------------
def normalize(number: str) -> str:
    return number.replace(" ", "").replace("-", "")


def luhn_valid(number: str) -> bool:
    """The mod-10 check every card number passes (ISO/IEC 7812)."""
    if not number.isdigit() or not 12 <= len(number) <= 19:
        return False
    total = 0
    for position, char in enumerate(reversed(number)):
        digit = int(char)
        if position % 2 == 1:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0


# (first digits, brand), longest prefixes first; ranges are expanded below.
_IIN_RANGES: tuple[tuple[int, int, str], ...] = (
    (2221, 2720, "mastercard"),
    (3528, 3589, "jcb"),
    (300, 305, "diners"),
    (644, 649, "discover"),
    (51, 55, "mastercard"),
)
_IIN_PREFIXES: tuple[tuple[str, str], ...] = (
    ("6011", "discover"),
    ("3095", "diners"),
    ("34", "amex"),
    ("37", "amex"),
    ("36", "diners"),
    ("38", "diners"),
    ("39", "diners"),
    ("62", "unionpay"),
    ("65", "discover"),
    ("4", "visa"),
)


def brand_for(number: str) -> str:
    """The card brand from the number's IIN, as ``card.brand`` names it."""
    for low, high, brand in _IIN_RANGES:
        head = number[: len(str(low))]
        if head.isdigit() and low <= int(head) <= high:
            return brand
    for prefix, brand in _IIN_PREFIXES:
        if number.startswith(prefix):
            return brand
    return "unknown"


def fingerprint(number: str) -> str:
    """A stable 16-character fingerprint: the same number always gives the same value,
    as Stripe's ``card.fingerprint`` does within an account."""
    digest = hashlib.sha256(f"stripe-sandbox-card:{number}".encode()).digest()
    return base64.b64encode(digest, altchars=b"Zz").decode()[:16]


# -- the catalogue ----------------------------------------------------------------------
@dataclass(frozen=True)
class Catalogue:
    by_number: dict[str, CardProfile]
    by_payment_method: dict[str, CardProfile]
    by_fingerprint: dict[str, CardProfile]
    by_token: dict[str, CardProfile]


@cache
def catalogue() -> Catalogue:
    entries: list[dict[str, Any]] = json.loads(CATALOGUE_PATH.read_text())
    by_number: dict[str, CardProfile] = {}
    by_pm: dict[str, CardProfile] = {}
    for entry in entries:
        profile = profile_from_entry(entry)
        by_number.setdefault(profile.number, profile)
        for pm_id in _payment_method_ids(entry):
            by_pm.setdefault(pm_id, replace(profile, payment_method=pm_id))
    for profile in list(by_number.values()):
        country_id = f"pm_card_{profile.country.lower()}"
        if profile.brand == "visa" and profile.behaviour is Behaviour.SUCCESS:
            by_pm.setdefault(country_id, replace(profile, payment_method=country_id))
    for pm_id, profile in list(by_pm.items()):
        if pm_id.startswith(_BRANDED_DECLINE):
            unbranded = "pm_card_" + pm_id.removeprefix(_BRANDED_DECLINE[:-len("charge")])
            by_pm.setdefault(unbranded, replace(profile, payment_method=unbranded))
    by_fp = {p.fingerprint: p for p in by_number.values()}
    return Catalogue(by_number, by_pm, by_fp, _tokens(entries, by_pm))


# The decline cards' ids name the Visa number (``pm_card_visa_chargeDeclined``); the older
# un-branded ids (``pm_card_chargeDeclined``, ``tok_chargeDeclinedInsufficientFunds``)
# that the Stripe CLI's fixtures and much existing code use name the same cards.
_BRANDED_DECLINE = "pm_card_visa_charge"
_TOKEN = re.compile(r"\btok_[A-Za-z0-9_]+")


def _tokens(entries: list[dict[str, Any]], by_pm: dict[str, CardProfile]
            ) -> dict[str, CardProfile]:
    """``tok_<x>`` for every ``pm_card_<x>``, plus the token-only variants the notes list
    (``Tokens: tok_chargeCustomerFail, tok_visa_chargeCustomerFail``)."""
    tokens = {"tok_" + pm_id.removeprefix("pm_card_"): p for pm_id, p in by_pm.items()}
    for entry in entries:
        profile = by_pm.get(entry["payment_method"] or "")
        if profile is None:
            continue
        for token in _TOKEN.findall(entry.get("notes") or ""):
            tokens.setdefault(token, profile)
    return tokens


def _payment_method_ids(entry: dict[str, Any]) -> list[str]:
    """The ``pm_card_*`` ids of an entry; the notes name aliases (``PMs: a, b``)."""
    ids = [entry["payment_method"]] if entry["payment_method"] else []
    notes: str = entry.get("notes") or ""
    if "PMs:" in notes:
        listed = notes.split("PMs:", 1)[1]
        ids += [part.strip(" .") for part in listed.split(",") if "pm_card_" in part]
    return ids


def by_number(number: str) -> CardProfile:
    """The catalogue card, or a plain successful card of the number's IIN brand."""
    found = catalogue().by_number.get(number)
    if found is not None:
        return found
    return CardProfile(number=number, brand=brand_for(number), country="US", funding="credit")


def by_payment_method_id(pm_id: str) -> CardProfile | None:
    return catalogue().by_payment_method.get(pm_id)


def by_token(token: str) -> CardProfile | None:
    """``tok_visa`` and friends: each test token names the same card as ``pm_card_*``."""
    return catalogue().by_token.get(token)


def by_fingerprint(value: str) -> CardProfile | None:
    return catalogue().by_fingerprint.get(value)


# -- reading the catalogue's rows -------------------------------------------------------
def profile_from_entry(entry: dict[str, Any]) -> CardProfile:
    text = f"{entry['behaviour']} {entry.get('notes') or ''}".lower()
    three_ds = _three_ds(entry, text)
    declined = _decline_of(entry)
    decline_after_auth = None
    if entry["requires_3ds"] and three_ds is not ThreeDS.LOOKUP_ERROR:
        declined, decline_after_auth = None, declined
    risk = _risk_level(text)
    if risk == "highest" and declined is None:
        declined = decline("fraudulent")  # Radar's default rule blocks the highest risk
    checks = _checks(text)
    profile = CardProfile(
        number=entry["number"],
        brand=entry["brand"],
        country=_country(entry, text),
        funding=_funding(entry),
        three_ds=three_ds,
        decline=declined,
        decline_after_auth=decline_after_auth,
        risk_level=risk,
        cvc_check=checks[0],
        line1_check=checks[1],
        postal_check=checks[2],
        payment_method=entry["payment_method"],
    )
    return replace(profile, behaviour=_behaviour(entry, text, profile))


def _decline_of(entry: dict[str, Any]) -> Decline | None:
    code, decline_code = entry["error_code"], entry["decline_code"]
    if code in (None, "incorrect_number") and decline_code is None:
        return None
    if code in (None, "card_declined"):
        return decline(decline_code or "generic_decline")
    # expired_card, incorrect_cvc, processing_error: the decline code repeats the code.
    return decline(decline_code or code, code)


def _three_ds(entry: dict[str, Any], text: str) -> ThreeDS:
    if not entry["requires_3ds"]:
        if "3ds: not supported" in text:
            return ThreeDS.NOT_SUPPORTED
        if "3ds attempt results in a processing error" in text:
            return ThreeDS.OPTIONAL_ERROR
        return ThreeDS.OPTIONAL
    if "frictionless" in text:
        return ThreeDS.FRICTIONLESS
    if "lookup fails" in text:
        return ThreeDS.LOOKUP_ERROR
    if "already set up for off-session" in text:
        return ThreeDS.REQUIRED_ON_SESSION
    if "unless set up" in text or "one-time payments" in text:
        return ThreeDS.REQUIRED_UNLESS_SET_UP
    return ThreeDS.REQUIRED


def _risk_level(text: str) -> RiskLevel:
    if "risk level highest" in text or "highest risk level" in text:
        return "highest"
    if "elevated risk" in text:
        return "elevated"
    return "normal"


def _checks(text: str) -> tuple[Check, Check, Check]:
    """(cvc_check, address_line1_check, address_postal_code_check)."""
    cvc: Check = "fail" if "cvc check fails" in text else "pass"
    if "address checks unavailable" in text:
        return cvc, "unavailable", "unavailable"
    both = "postal code and line1 checks both fail" in text
    line1: Check = "fail" if both or "line1 check fails" in text else "pass"
    postal: Check = "fail" if both or "postal code check fails" in text else "pass"
    return cvc, line1, postal


def _behaviour(entry: dict[str, Any], text: str, profile: CardProfile) -> Behaviour:
    category = entry["category"]
    if entry["error_code"] == "incorrect_number":
        return Behaviour.INCORRECT_NUMBER
    if category == "decline_after_attach":
        return Behaviour.DECLINE_AFTER_ATTACH
    if profile.risk_level == "highest":
        return Behaviour.RADAR_BLOCK
    if profile.decline is not None and profile.three_ds is not ThreeDS.LOOKUP_ERROR:
        return Behaviour.DECLINE
    if profile.three_ds is ThreeDS.FRICTIONLESS:
        return Behaviour.FRICTIONLESS_3DS
    if entry["requires_3ds"]:
        return Behaviour.REQUIRES_3DS
    if profile.risk_level == "elevated":
        return Behaviour.ELEVATED_RISK
    if (profile.cvc_check, profile.line1_check, profile.postal_check) != ("pass",) * 3:
        return Behaviour.CHECK_FAILURE
    return _category_behaviour(category, text)


def _category_behaviour(category: str, text: str) -> Behaviour:
    if category == "refund":
        return Behaviour.PENDING_REFUND if "starts 'pending'" in text else Behaviour.REFUND_FAILS
    if category == "dispute":
        return Behaviour.DISPUTE
    if category == "balance":
        return Behaviour.BYPASS_PENDING
    return Behaviour.SUCCESS


def _funding(entry: dict[str, Any]) -> Funding:
    """The notes say "Visa (debit)" or "(prepaid)"; debit ids say so too (pm_card_gb_debit)."""
    notes = (entry.get("notes") or "").lower()
    pm_id = (entry["payment_method"] or "").lower()
    if "(prepaid)" in notes:
        return "prepaid"
    if "(debit)" in notes or "debit" in pm_id:
        return "debit"
    return "credit"


# ISO 3166 numeric codes that Stripe's test numbers carry in digits 7-9 (4000 00NN N...).
_NUMERIC_COUNTRIES = {
    "250": "FR", "276": "DE", "372": "IE", "380": "IT", "826": "GB", "840": "US",
}
_BRAND_COUNTRIES = {"jcb": "JP", "unionpay": "CN"}


def _country(entry: dict[str, Any], text: str) -> str:
    if entry["country"]:
        return str(entry["country"])
    if "ireland-issued" in text:
        return "IE"
    pm_id = (entry["payment_method"] or "").lower()
    if "cartesbancaires" in pm_id:
        return "FR"
    if "eftpos" in pm_id:
        return "AU"
    number: str = entry["number"]
    if number.startswith("400000") and number[6:9] in _NUMERIC_COUNTRIES:
        return _NUMERIC_COUNTRIES[number[6:9]]
    return _BRAND_COUNTRIES.get(entry["brand"], "US")
