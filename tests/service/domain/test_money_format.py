from __future__ import annotations

import pytest

from simulator.service.domain.money import format_money, minor_units


@pytest.mark.parametrize(("amount", "currency", "shown"), [
    (64200, "usd", "$642.00"),
    (310000, "eur", "€3,100.00"),
    (40000, "GBP", "£400.00"),
    (5, "usd", "$0.05"),
    (0, "usd", "$0.00"),
    (-1250, "usd", "-$12.50"),
    (1000, "jpy", "¥1,000"),
    (123456, "chf", "1,234.56 CHF"),
])
def test_format_money(amount: int, currency: str, shown: str) -> None:
    assert format_money(amount, currency) == shown


def test_zero_decimal_currencies_have_no_minor_unit() -> None:
    assert (minor_units("jpy"), minor_units("KRW"), minor_units("usd")) == (0, 0, 2)
