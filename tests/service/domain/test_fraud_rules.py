"""Each fraud rule's allow, review and block, at its boundaries, and how the rules'
answers combine into one verdict."""

from __future__ import annotations

from dataclasses import replace

import pytest

from simulator.service.domain.fraud import (
    CheckoutFacts,
    FraudCheck,
    FraudPolicy,
    Limit,
    PaymentFacts,
    RuleResult,
    Verdict,
    network_of,
)

check = FraudCheck()
CLEAN = PaymentFacts(amount=18_500, currency="usd", three_d_secure_result=None,
                     risk_level="normal", failed_attempts=0, card_country="US",
                     buyer_country="US", card_fingerprint="fp_1", card_payments_day=1,
                     card_buyers=1, paid_amounts=())
FIRST_CHECKOUT = CheckoutFacts()


def payment(**changes: object) -> Verdict:
    return check.on_payment(replace(CLEAN, **changes))  # type: ignore[arg-type]


def at_checkout(**changes: object) -> Verdict:
    return check.at_checkout(replace(FIRST_CHECKOUT, **changes))  # type: ignore[arg-type]


def answer(verdict: Verdict, code: str) -> str:
    """The decision of the rule answering with ``code`` ("allow" when none did)."""
    return next((r.decision for r in verdict.findings if r.code == code), "allow")


# -- the verdict ------------------------------------------------------------------------
def test_the_strictest_decision_wins_and_every_reason_is_kept() -> None:
    verdict = Verdict((RuleResult.allow("a", "fine"),
                       RuleResult("b", "review", "b_code", "look at b"),
                       RuleResult("c", "block", "c_code", "stop c")))
    assert verdict.decision == "block"
    assert verdict.codes == ("c_code", "b_code")
    assert verdict.reasons == "stop c; look at b"
    assert Verdict(()).decision == "allow"


def test_a_clean_payment_and_a_first_checkout_are_allowed() -> None:
    assert payment().decision == "allow"
    assert payment().codes == ()
    assert at_checkout().decision == "allow"
    assert all(r.reason for r in payment().results)


# -- existing rules ---------------------------------------------------------------------
def test_high_value_without_3ds_authentication_is_reviewed() -> None:
    verdict = payment(amount=64_200, three_d_secure_result="attempt_acknowledged")
    assert verdict.decision == "review"
    assert verdict.codes == ("high_value_unauthenticated",)
    assert "attempt_acknowledged" in verdict.reasons
    assert payment(amount=64_200, three_d_secure_result="authenticated").decision == "allow"


def test_radar_risk_review_and_configurable_block() -> None:
    assert payment(risk_level="elevated").codes == ("radar_risk",)
    assert payment(risk_level="highest").decision == "review"
    assert payment(risk_level=None).decision == "allow"
    strict = FraudCheck(policy=FraudPolicy(radar_block_levels=("highest",)))
    assert strict.on_payment(replace(CLEAN, risk_level="highest")).decision == "block"


@pytest.mark.parametrize(("failed", "decision"), [(2, "allow"), (3, "review"), (5, "review"),
                                                  (6, "block")])
def test_many_failed_attempts_on_the_lot(failed: int, decision: str) -> None:
    assert answer(payment(failed_attempts=failed), "many_failed_attempts") == decision


# -- country ----------------------------------------------------------------------------
def test_card_country_differs_from_the_buyers_when_both_are_known() -> None:
    verdict = payment(card_country="FR")
    assert verdict.decision == "review"
    assert verdict.reasons == "Card issued in FR, buyer registered in US."
    assert payment(card_country="us").decision == "allow"


@pytest.mark.parametrize(("card", "buyer"), [("FR", None), ("FR", ""), ("FR", "  "),
                                             (None, "US"), ("", "US"), ("XX", "US"),
                                             ("FR", "unknown")])
def test_an_unknown_or_placeholder_country_is_not_a_mismatch(card: str | None,
                                                            buyer: str | None) -> None:
    assert payment(card_country=card, buyer_country=buyer).decision == "allow"


def test_country_mismatch_may_be_made_a_block_or_switched_off() -> None:
    for setting, decision in (("block", "block"), ("allow", "allow")):
        policy = FraudPolicy.from_settings({"country_mismatch": setting})
        assert FraudCheck(policy=policy).on_payment(
            replace(CLEAN, card_country="DE")).decision == decision


# -- amount against history -------------------------------------------------------------
def test_a_first_purchase_is_never_flagged_for_its_amount() -> None:
    assert payment(amount=5_000_000, three_d_secure_result="authenticated",
                   paid_amounts=()).decision == "allow"


def test_under_the_floor_the_amount_is_not_compared() -> None:
    assert payment(amount=19_999, paid_amounts=(100,)).decision == "allow"


@pytest.mark.parametrize(("amount", "decision"), [
    (49_999, "allow"), (50_000, "review"), (199_999, "review"), (200_000, "block")])
def test_an_amount_many_times_the_buyers_median(amount: int, decision: str) -> None:
    # median of (5_000, 10_000, 80_000) is 10_000: review from 5x, block from 20x
    verdict = payment(amount=amount, paid_amounts=(5_000, 80_000, 10_000))
    assert answer(verdict, "amount_above_history") == decision
    if decision != "allow":
        assert "median of this buyer's 3 paid orders" in verdict.reasons


# -- card velocity ----------------------------------------------------------------------
@pytest.mark.parametrize(("payments", "decision"), [(9, "allow"), (10, "review"),
                                                    (24, "review"), (25, "block")])
def test_payments_with_one_card_in_a_day(payments: int, decision: str) -> None:
    assert answer(payment(card_payments_day=payments), "card_payments_day") == decision


@pytest.mark.parametrize(("buyers", "decision"), [(3, "allow"), (4, "review"), (7, "review"),
                                                  (8, "block")])
def test_one_card_used_by_several_buyers(buyers: int, decision: str) -> None:
    assert answer(payment(card_buyers=buyers), "card_shared") == decision


def test_without_a_fingerprint_the_card_is_not_counted() -> None:
    assert payment(card_fingerprint=None, card_buyers=9, card_payments_day=99).decision \
        == "allow"


# -- at checkout: velocity, devices, networks -------------------------------------------
@pytest.mark.parametrize(("field", "code", "review", "block"), [
    ("buyer_checkouts_hour", "buyer_checkouts_hour", 10, 30),
    ("buyer_checkouts_day", "buyer_checkouts_day", 30, 100),
    ("buyer_failures_day", "buyer_failures_day", 5, 15),
    ("ip_checkouts_hour", "ip_checkouts_hour", 10, 20),
    ("ip_failures_day", "ip_failures_day", 6, 12),
    ("device_buyers_day", "shared_device", 3, 5),
    ("network_buyers_day", "shared_network", 6, 12),
])
def test_checkout_counts_review_then_block(field: str, code: str, review: int,
                                           block: int) -> None:
    assert answer(at_checkout(**{field: review - 1}), code) == "allow"
    assert answer(at_checkout(**{field: review}), code) == "review"
    assert answer(at_checkout(**{field: block - 1}), code) == "review"
    blocked = at_checkout(**{field: block})
    assert answer(blocked, code) == "block"
    assert blocked.decision == "block"
    assert str(block) in blocked.reasons


def test_the_network_of_an_address() -> None:
    assert network_of("203.0.113.77") == "203.0.113.0/24"
    assert network_of("2001:db8::1") == "2001:db8::/64"
    assert network_of("not an address") is None
    assert network_of(None) is None


# -- the policy -------------------------------------------------------------------------
def test_thresholds_come_from_the_settings() -> None:
    policy = FraudPolicy.from_settings({"device_buyers_per_day": [2, 3],
                                        "amount_review_multiple": "3",
                                        "card_buyers": {"review": 3, "block": 6},
                                        "trusted_networks": []})
    assert policy.device_buyers_per_day == Limit(2, 3)
    assert policy.amount_review_multiple == 3.0
    assert policy.card_buyers == Limit(3, 6)
    assert not policy.trusts("127.0.0.1")
    assert FraudPolicy().trusts("127.0.0.1") and FraudPolicy().trusts("::1")
    assert not FraudPolicy().trusts("203.0.113.5")


@pytest.mark.parametrize("settings", [{"no_such_rule": 1}, {"card_buyers": [5, 2]},
                                      {"country_mismatch": "maybe"}])
def test_bad_settings_are_refused(settings: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        FraudPolicy.from_settings(settings)
