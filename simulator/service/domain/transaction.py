"""A successful payment as the service keeps it: the amount, Stripe's fee, and what
identifies the card to a human (brand and last four digits). Never a card number or
a CVC: the service is SAQ A (https://docs.stripe.com/security/guide#validating-pci-compliance).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any, Literal

Status = Literal["succeeded", "partially_refunded", "refunded"]
ReviewStatus = Literal["none", "pending", "cleared"]


@dataclass(frozen=True)
class Transaction:
    id: str
    payment_session_id: str
    win_id: str
    amount: int
    fee: int
    net: int
    currency: str
    status: Status
    card_brand: str | None
    card_last4: str | None
    three_d_secure_result: str | None
    risk_level: str | None
    risk_score: int | None
    charge_id: str | None
    payment_intent_id: str
    created_at: int
    card_country: str | None = None
    amount_refunded: int = 0
    review_status: ReviewStatus = "none"
    review_flags: tuple[str, ...] = ()

    def refunded(self, amount_refunded: int) -> Transaction:
        """``charge.refunded`` carries the total refunded so far."""
        status: Status = "refunded" if amount_refunded >= self.amount else "partially_refunded"
        return replace(self, status=status, amount_refunded=amount_refunded)

    def flagged(self, flags: tuple[str, ...]) -> Transaction:
        if not flags:
            return self
        return replace(self, review_status="pending", review_flags=self.review_flags + flags)

    def snapshot(self) -> dict[str, Any]:
        data = asdict(self)
        data["review_flags"] = list(self.review_flags)
        return data
