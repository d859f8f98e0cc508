"""The virtual bank accounts a customer pays into to fund their cash balance by bank transfer
(https://docs.stripe.com/payments/bank-transfers): the five transfer types, the currency
each takes, and the ``financial_addresses`` a PaymentIntent's
``display_bank_transfer_instructions`` shows.

The first bank transfer payment gives a customer a virtual account that all their later
transfers go to, so the numbers here are derived from the customer's id: the same customer
always sees the same account. They are made-up test numbers that still pass their format's
checks (IBAN mod-97, CLABE check digit). Nothing here touches the store."""

from __future__ import annotations

import hashlib
from typing import Any

# Transfer type -> the one currency it moves (https://docs.stripe.com/payments/bank-transfers).
CURRENCY: dict[str, str] = {
    "eu_bank_transfer": "eur",
    "gb_bank_transfer": "gbp",
    "jp_bank_transfer": "jpy",
    "mx_bank_transfer": "mxn",
    "us_bank_transfer": "usd",
}
TRANSFER_TYPES: tuple[str, ...] = tuple(CURRENCY)
TYPE_FOR_CURRENCY: dict[str, str] = {currency: kind for kind, currency in CURRENCY.items()}
# The names Stripe took before the ``*_bank_transfer`` ones, still accepted (the Stripe
# CLI's own ``payment_intent.partially_funded`` fixture sends ``jp_bank_account``).
LEGACY_NAMES: dict[str, str] = {kind.replace("_transfer", "_account"): kind
                                for kind in TRANSFER_TYPES}
ADDRESS_TYPES: dict[str, tuple[str, ...]] = {
    "eu_bank_transfer": ("iban",),
    "gb_bank_transfer": ("sort_code",),
    "jp_bank_transfer": ("zengin",),
    "mx_bank_transfer": ("spei",),
    "us_bank_transfer": ("aba", "swift"),
}
REQUESTABLE_ADDRESS_TYPES = ("aba", "iban", "sepa", "sort_code", "spei", "swift", "zengin")
NETWORKS: dict[str, list[str]] = {
    "aba": ["ach", "domestic_wire_us"], "iban": ["sepa"], "sort_code": ["bacs", "fps"],
    "spei": ["spei"], "swift": ["swift"], "zengin": ["zengin"],
}
EU_COUNTRIES = ("BE", "DE", "ES", "FR", "IE", "NL")
HOLDER = "SANDBOX TEST ACCOUNT"
BANK = "SANDBOX TEST BANK"
_CITIES = {"BE": "Brussels", "DE": "Berlin", "ES": "Madrid", "FR": "Paris", "IE": "Dublin",
           "NL": "Amsterdam", "GB": "London", "JP": "Tokyo", "MX": "Ciudad de México",
           "US": "San Francisco"}
# The BBAN of a made-up IBAN per country: a fixed bank part, then the account's digits.
_BBAN_PREFIX = {"BE": "", "DE": "37040044", "ES": "2100", "FR": "20041", "IE": "SNDB",
                "NL": "SNDB"}
_IBAN_LENGTH = {"BE": 16, "DE": 22, "ES": 24, "FR": 27, "IE": 22, "NL": 18}


def transfer_type(name: str) -> str | None:
    """The current name of a bank transfer type (legacy names mapped), or None."""
    if name in CURRENCY:
        return name
    return LEGACY_NAMES.get(name)


def financial_addresses(customer_id: str, kind: str, requested: list[str] | None = None,
                        eu_country: str | None = None) -> list[dict[str, Any]]:
    """The customer's virtual accounts for ``kind``, limited to ``requested`` address types
    when any of them applies."""
    offered = ADDRESS_TYPES[kind]
    chosen = [t for t in offered if t in (requested or ())] or list(offered)
    return [_address_of(customer_id, t, eu_country or "DE") for t in chosen]


def _address_of(customer_id: str, address_type: str, eu_country: str) -> dict[str, Any]:
    digits = _digits(f"{customer_id}:{address_type}")
    details: dict[str, Any]
    if address_type == "aba":
        details = {**_parties("US"), "account_number": digits[:12], "account_type": "checking",
                   "bank_name": BANK, "routing_number": "110000000"}
    elif address_type == "swift":
        details = {**_parties("US"), "account_number": digits[:12], "account_type": "checking",
                   "bank_name": BANK, "swift_code": "SNDBUS33XXX"}
    elif address_type == "iban":
        details = {**_parties(eu_country), "bic": f"SNDB{eu_country}22XXX",
                   "country": eu_country, "iban": make_iban(eu_country, digits)}
    elif address_type == "sort_code":
        details = {**_parties("GB"), "account_number": digits[:8], "sort_code": "608371"}
    elif address_type == "spei":
        details = {**_parties("MX"), "bank_code": "002", "bank_name": BANK,
                   "clabe": make_clabe("002180" + digits[:11])}
    else:  # zengin
        details = {"account_holder_address": _address("JP"), "account_holder_name": HOLDER,
                   "account_number": digits[:7], "account_type": "futsu",
                   "bank_address": _address("JP"), "bank_code": "0999", "bank_name": BANK,
                   "branch_code": digits[7:10], "branch_name": "Head Office"}
    return {address_type: details, "supported_networks": list(NETWORKS[address_type]),
            "type": address_type}


def _parties(country: str) -> dict[str, Any]:
    return {"account_holder_address": _address(country), "account_holder_name": HOLDER,
            "bank_address": _address(country)}


def _address(country: str) -> dict[str, Any]:
    return {"city": _CITIES[country], "country": country, "line1": "1 Sandbox Street",
            "line2": None, "postal_code": "10000", "state": None}


def _digits(seed: str) -> str:
    """Forty stable decimal digits for a seed."""
    return str(int(hashlib.sha256(seed.encode()).hexdigest(), 16))[-40:].rjust(40, "0")


def make_iban(country: str, digits: str) -> str:
    """A made-up IBAN for ``country`` whose check digits are right (mod 97)."""
    prefix = _BBAN_PREFIX[country]
    bban = prefix + digits[: _IBAN_LENGTH[country] - 4 - len(prefix)]
    numeric = "".join(str(int(char, 36)) for char in bban + country + "00")
    return f"{country}{98 - int(numeric) % 97:02d}{bban}"


def make_clabe(first17: str) -> str:
    """A CLABE: 17 digits and the check digit (weights 3, 7, 1 repeated)."""
    weights = ((3, 7, 1) * 6)[:17]
    total = sum(int(d) * w % 10 for d, w in zip(first17, weights, strict=True))
    return first17 + str((10 - total % 10) % 10)
