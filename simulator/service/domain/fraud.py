"""Rules that put a payment in the review queue. They never block: Stripe Radar already
blocked what it would (https://docs.stripe.com/radar/risk-evaluation); these flag what
a human should look at before the lot ships."""

from __future__ import annotations

from dataclasses import dataclass, field

from simulator.service.domain.three_d_secure import ThreeDSecurePolicy


@dataclass(frozen=True)
class Flag:
    code: str
    message: str


@dataclass(frozen=True)
class PaymentFacts:
    """What the rules look at, gathered from Stripe's charge and our records."""

    amount: int
    currency: str
    three_d_secure_result: str | None
    risk_level: str | None
    failed_attempts: int
    card_country: str | None = None
    buyer_country: str | None = None


@dataclass(frozen=True)
class FraudCheck:
    three_d_secure: ThreeDSecurePolicy = field(default_factory=ThreeDSecurePolicy)
    max_failed_attempts: int = 2

    def flags(self, facts: PaymentFacts) -> list[Flag]:
        rules = (self._unauthenticated_high_value, self._radar_risk, self._many_failures,
                 self._country_mismatch)
        return [flag for rule in rules if (flag := rule(facts)) is not None]

    def _unauthenticated_high_value(self, facts: PaymentFacts) -> Flag | None:
        if not self.three_d_secure.needs_review(facts.amount, facts.currency,
                                                facts.three_d_secure_result):
            return None
        result = facts.three_d_secure_result or "none"
        return Flag("high_value_unauthenticated",
                    f"High-value payment without 3-D Secure authentication (result: {result}).")

    @staticmethod
    def _radar_risk(facts: PaymentFacts) -> Flag | None:
        if facts.risk_level not in ("elevated", "highest"):
            return None
        return Flag("radar_risk", f"Stripe Radar rated the payment's risk {facts.risk_level}.")

    def _many_failures(self, facts: PaymentFacts) -> Flag | None:
        if facts.failed_attempts <= self.max_failed_attempts:
            return None
        return Flag("many_failed_attempts",
                    f"{facts.failed_attempts} failed attempts before this payment.")

    @staticmethod
    def _country_mismatch(facts: PaymentFacts) -> Flag | None:
        card, buyer = facts.card_country, facts.buyer_country
        if not card or not buyer or card.upper() == buyer.upper():
            return None
        return Flag("country_mismatch",
                    f"Card issued in {card.upper()}, buyer registered in {buyer.upper()}.")
