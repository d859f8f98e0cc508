from __future__ import annotations

from dataclasses import replace

from simulator.service.domain.fraud import FraudCheck, PaymentFacts

check = FraudCheck()
CLEAN = PaymentFacts(amount=18_500, currency="usd", three_d_secure_result=None,
                     risk_level="normal", failed_attempts=0, card_country="US",
                     buyer_country="US")


def codes(facts: PaymentFacts) -> list[str]:
    return [flag.code for flag in check.flags(facts)]


def test_a_clean_payment_has_no_flags() -> None:
    assert codes(CLEAN) == []


def test_high_value_without_3ds_authentication() -> None:
    facts = replace(CLEAN, amount=64_200, three_d_secure_result="attempt_acknowledged")
    [flag] = check.flags(facts)
    assert flag.code == "high_value_unauthenticated"
    assert "attempt_acknowledged" in flag.message
    assert codes(replace(facts, three_d_secure_result="authenticated")) == []


def test_radar_risk_elevated_or_highest() -> None:
    assert codes(replace(CLEAN, risk_level="elevated")) == ["radar_risk"]
    assert codes(replace(CLEAN, risk_level="highest")) == ["radar_risk"]
    assert codes(replace(CLEAN, risk_level=None)) == []


def test_many_failed_attempts() -> None:
    assert codes(replace(CLEAN, failed_attempts=2)) == []
    assert codes(replace(CLEAN, failed_attempts=3)) == ["many_failed_attempts"]


def test_card_country_differs_from_the_buyers_when_both_are_known() -> None:
    assert codes(replace(CLEAN, card_country="FR")) == ["country_mismatch"]
    assert codes(replace(CLEAN, card_country="us")) == []
    assert codes(replace(CLEAN, buyer_country=None, card_country="FR")) == []


def test_every_rule_at_once() -> None:
    facts = PaymentFacts(64_200, "usd", None, "highest", 3, "FR", "US")
    assert codes(facts) == ["high_value_unauthenticated", "radar_risk",
                            "many_failed_attempts", "country_mismatch"]
