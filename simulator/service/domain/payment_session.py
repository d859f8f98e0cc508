"""One attempt to pay for a win: our record of one Stripe Checkout Session.

The row exists before Stripe is called, holding the idempotency key, so a retried
create call can never make a second Checkout Session for the same attempt
(https://docs.stripe.com/api/idempotent_requests).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any, Literal

Status = Literal["open", "processing", "succeeded", "failed", "expired", "canceled"]

# A declined card leaves the Checkout Session open, so a "failed" attempt can still be
# paid on Stripe's page; "expired" and "canceled" can turn "succeeded" only when Stripe
# reports a payment that was made before the session closed (a late webhook), and
# "expired" turns "failed" when a decline made before the expiry is delivered after it.
TRANSITIONS: dict[str, frozenset[str]] = {
    "open": frozenset({"processing", "succeeded", "failed", "expired", "canceled"}),
    "processing": frozenset({"succeeded", "failed", "expired", "canceled"}),
    "failed": frozenset({"processing", "succeeded"}),
    "expired": frozenset({"succeeded", "failed"}),
    "canceled": frozenset({"succeeded"}),
    "succeeded": frozenset(),
}
LIVE = ("open", "processing")


class InvalidTransition(ValueError):
    pass


@dataclass(frozen=True)
class PaymentSession:
    id: str
    win_id: str
    buyer_id: str
    attempt: int
    status: Status
    idempotency_key: str
    expires_at: int
    window_ends_at: int
    created_at: int
    updated_at: int
    checkout_session_id: str | None = None
    checkout_url: str | None = None
    payment_intent_id: str | None = None
    failure_code: str | None = None
    failure_reason: str | None = None

    @property
    def reached_stripe(self) -> bool:
        """A Checkout Session exists for this attempt (it counts against the retries)."""
        return self.checkout_session_id is not None

    def is_usable(self, now: float) -> bool:
        """The buyer can be sent to this session's Checkout page right now."""
        return (self.status == "open" and self.checkout_url is not None
                and now < self.expires_at and now < self.window_ends_at)

    def can_become(self, status: Status) -> bool:
        return status in TRANSITIONS[self.status]

    def transition(self, status: Status, at: int, **changes: Any) -> PaymentSession:
        if not self.can_become(status):
            raise InvalidTransition(f"payment session {self.id}: {self.status} -> {status}")
        return replace(self, status=status, updated_at=at, **changes)

    def updated(self, at: int, **changes: Any) -> PaymentSession:
        """The same status with new details (the Checkout Session's id and url)."""
        return replace(self, updated_at=at, **changes)

    def snapshot(self) -> dict[str, Any]:
        """What the audit log keeps of this session."""
        return {key: value for key, value in asdict(self).items() if key != "idempotency_key"}
