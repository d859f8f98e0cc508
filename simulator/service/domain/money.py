"""Amounts are integers in the currency's minor unit, as Stripe sends them
(https://docs.stripe.com/currencies#minor-units)."""

from __future__ import annotations

# Stripe's zero-decimal currencies: the amount is already in whole units.
ZERO_DECIMAL = frozenset({
    "bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "ugx", "vnd",
    "vuv", "xaf", "xof", "xpf",
})
SYMBOLS = {"usd": "$", "eur": "€", "gbp": "£", "jpy": "¥", "cad": "CA$", "aud": "A$"}


def minor_units(currency: str) -> int:
    """How many decimal places the currency's amounts carry."""
    return 0 if currency.lower() in ZERO_DECIMAL else 2


def format_money(amount: int, currency: str) -> str:
    """``format_money(64200, "usd") == "$642.00"``; unknown symbols fall back to the code."""
    places = minor_units(currency)
    sign = "-" if amount < 0 else ""
    whole = abs(amount) / (10 ** places)
    number = f"{whole:,.{places}f}"
    symbol = SYMBOLS.get(currency.lower())
    if symbol is None:
        return f"{sign}{number} {currency.upper()}"
    return f"{sign}{symbol}{number}"
