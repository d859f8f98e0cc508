"""Fraud rules: each returns allow, review or block with a code and a reason, and a
``Verdict`` combines them (the strictest wins). Checkout rules need no payment and run
when a checkout starts; payment rules run on Stripe's paid charge. See the "Fraud"
section of docs/design.md for where each decision applies."""

from __future__ import annotations

from dataclasses import dataclass, field

from simulator.service.domain.fraud.checkout_rules import (
    CheckoutFacts,
    CheckoutSignals,
    checkout_verdict,
    network_of,
)
from simulator.service.domain.fraud.payment_rules import PaymentFacts, payment_verdict
from simulator.service.domain.fraud.policy import FraudPolicy, Limit
from simulator.service.domain.fraud.verdict import Decision, RuleResult, Verdict
from simulator.service.domain.three_d_secure import ThreeDSecurePolicy

__all__ = ["CheckoutFacts", "CheckoutSignals", "Decision", "FraudCheck", "FraudPolicy",
           "Limit", "PaymentFacts", "RuleResult", "Verdict", "network_of"]


@dataclass(frozen=True)
class FraudCheck:
    three_d_secure: ThreeDSecurePolicy = field(default_factory=ThreeDSecurePolicy)
    policy: FraudPolicy = field(default_factory=FraudPolicy)

    def at_checkout(self, facts: CheckoutFacts) -> Verdict:
        return checkout_verdict(self.policy, facts)

    def on_payment(self, facts: PaymentFacts) -> Verdict:
        return payment_verdict(self.policy, self.three_d_secure, facts)
