"""Rules on a paid charge: run when Stripe's payment is recorded. The payment is never
lost whatever they say: review holds the order for an admin, block holds it and marks
it for refund. Stripe Radar already refused what it would
(https://docs.stripe.com/radar/risk-evaluation); these catch what it lets through."""

from __future__ import annotations

import re
from dataclasses import dataclass
from statistics import median

from simulator.service.domain.fraud.policy import FraudPolicy
from simulator.service.domain.fraud.verdict import RuleResult, Verdict, count_rule
from simulator.service.domain.three_d_secure import ThreeDSecurePolicy

COUNTRY_CODE = re.compile(r"^[A-Za-z]{2}$")


@dataclass(frozen=True)
class PaymentFacts:
    """What the rules look at, gathered from Stripe's charge and our records. Counts
    include this payment; ``paid_amounts`` are the buyer's earlier paid orders in the
    same currency."""

    amount: int
    currency: str
    three_d_secure_result: str | None
    risk_level: str | None
    failed_attempts: int
    card_country: str | None = None
    buyer_country: str | None = None
    card_fingerprint: str | None = None
    card_payments_day: int = 1
    card_buyers: int = 1
    paid_amounts: tuple[int, ...] = ()


def country_code(value: str | None) -> str | None:
    """An ISO 3166 alpha-2 code, or None for anything else (empty, unknown, "XX")."""
    if value is None or not COUNTRY_CODE.match(value.strip()):
        return None
    code = value.strip().upper()
    return None if code in ("XX", "ZZ") else code


def payment_verdict(policy: FraudPolicy, three_d_secure: ThreeDSecurePolicy,
                    facts: PaymentFacts) -> Verdict:
    return Verdict((
        _three_d_secure(three_d_secure, facts),
        _radar(policy, facts),
        count_rule("many_failed_attempts", "many_failed_attempts", policy.failed_attempts,
                    facts.failed_attempts,
                    lambda n: f"{n} failed attempts on this lot before this payment."),
        *_card_velocity(policy, facts),
        _amount_against_history(policy, facts),
        _country(policy, facts),
    ))


def _three_d_secure(policy: ThreeDSecurePolicy, facts: PaymentFacts) -> RuleResult:
    rule = "high_value_unauthenticated"
    if not policy.needs_review(facts.amount, facts.currency, facts.three_d_secure_result):
        return RuleResult.allow(rule, "Authenticated, or under the 3-D Secure threshold.")
    result = facts.three_d_secure_result or "none"
    return RuleResult(rule, "review", rule, "High-value payment without 3-D Secure"
                      f" authentication (result: {result}).")


def _radar(policy: FraudPolicy, facts: PaymentFacts) -> RuleResult:
    level = facts.risk_level
    reason = f"Stripe Radar rated the payment's risk {level or 'unknown'}."
    if level in policy.radar_block_levels:
        return RuleResult("radar_risk", "block", "radar_risk", reason)
    if level in policy.radar_review_levels:
        return RuleResult("radar_risk", "review", "radar_risk", reason)
    return RuleResult.allow("radar_risk", reason)


def _card_velocity(policy: FraudPolicy, facts: PaymentFacts) -> tuple[RuleResult, ...]:
    if not facts.card_fingerprint:
        return (RuleResult.allow("card_velocity", "Stripe gave no card fingerprint."),)
    return (
        count_rule("card_velocity", "card_payments_day", policy.card_payments_per_day,
                    facts.card_payments_day,
                    lambda n: f"{n} payments with this card in the last day."),
        count_rule("card_velocity", "card_shared", policy.card_buyers, facts.card_buyers,
                    lambda n: f"This card was used by {n} different buyers in the last day."),
    )


def _amount_against_history(policy: FraudPolicy, facts: PaymentFacts) -> RuleResult:
    """Many times the median of the buyer's own paid orders. A first purchase, a short
    history or an amount under the floor is allowed: there is nothing to compare."""
    rule = "amount_above_history"
    history = [a for a in facts.paid_amounts if a > 0]
    if len(history) < policy.amount_min_history or facts.amount < policy.amount_floor:
        return RuleResult.allow(rule, "Too little history, or under the floor, to compare.")
    typical = median(history)
    multiple = facts.amount / typical
    reason = (f"{multiple:.1f}x the median of this buyer's {len(history)} paid orders"
              f" ({facts.amount / 100:.2f} against {typical / 100:.2f}"
              f" {facts.currency.upper()}).")
    if multiple >= policy.amount_block_multiple:
        return RuleResult(rule, "block", rule, reason)
    if multiple >= policy.amount_review_multiple:
        return RuleResult(rule, "review", rule, reason)
    return RuleResult.allow(rule, reason)


def _country(policy: FraudPolicy, facts: PaymentFacts) -> RuleResult:
    """Only when both countries are known codes and differ: a missing or placeholder
    country on either side says nothing about fraud."""
    card, buyer = country_code(facts.card_country), country_code(facts.buyer_country)
    if card is None or buyer is None:
        return RuleResult.allow("country_mismatch", "Card or buyer country unknown.")
    if card == buyer or policy.country_mismatch == "allow":
        return RuleResult.allow("country_mismatch", f"Card and buyer in {card}."
                                if card == buyer else f"Card {card}, buyer {buyer}.")
    return RuleResult("country_mismatch", policy.country_mismatch, "country_mismatch",
                      f"Card issued in {card}, buyer registered in {buyer}.")
