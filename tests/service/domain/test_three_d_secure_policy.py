from __future__ import annotations

import pytest

from simulator.service.domain.three_d_secure import ThreeDSecurePolicy

policy = ThreeDSecurePolicy()


@pytest.mark.parametrize(("amount", "currency", "requested"), [
    (50_000, "usd", False), (50_001, "usd", True), (64_200, "USD", True),
    (40_000, "gbp", False), (40_001, "gbp", True), (999_999, "jpy", False),
])
def test_3ds_is_requested_above_the_threshold(amount: int, currency: str,
                                              requested: bool) -> None:
    assert policy.requests_3ds(amount, currency) is requested


def test_thresholds_per_currency_and_a_default() -> None:
    custom = ThreeDSecurePolicy({"usd": 1_000}, default_threshold=100)
    assert custom.requests_3ds(1_001, "usd") and not custom.requests_3ds(1_000, "usd")
    assert custom.requests_3ds(101, "chf")


@pytest.mark.parametrize(("result", "review"), [
    ("authenticated", False), ("attempt_acknowledged", True), ("exempted", True),
    ("not_supported", True), (None, True),
])
def test_high_value_without_authentication_needs_review(result: str | None,
                                                        review: bool) -> None:
    assert policy.needs_review(64_200, "usd", result) is review
    assert policy.needs_review(18_500, "usd", result) is False
