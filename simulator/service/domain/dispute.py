"""A chargeback on one of our payments, as Stripe reports it
(https://docs.stripe.com/disputes/how-disputes-work).

A dispute opens (``charge.dispute.created``) as an inquiry (``warning_*``) or a
chargeback (``needs_response``); the card network withdraws the money and gives the
merchant until ``evidence_details.due_by`` to answer; Stripe then reports ``won`` or
``lost`` (``charge.dispute.closed``). The service keeps the latest state per dispute,
so deliveries that repeat or arrive out of order converge on Stripe's newest word."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any, Literal

Status = Literal["warning_needs_response", "warning_under_review", "warning_closed",
                 "needs_response", "under_review", "won", "lost", "prevented"]
CLOSED: frozenset[str] = frozenset({"warning_closed", "won", "lost", "prevented"})
# Stripe's statuses move forward only; a delivery with an earlier one is stale.
_RANK: dict[str, int] = {
    "warning_needs_response": 0, "needs_response": 0, "warning_under_review": 1,
    "under_review": 1, "warning_closed": 2, "won": 2, "lost": 2, "prevented": 2,
}


@dataclass(frozen=True)
class Dispute:
    id: str
    transaction_id: str
    charge_id: str | None
    amount: int
    currency: str
    reason: str
    status: str
    evidence_due_by: int | None
    opened_at: int
    updated_at: int

    @property
    def is_open(self) -> bool:
        return self.status not in CLOSED

    @property
    def is_chargeback(self) -> bool:
        """Money withdrawn now; an inquiry (``warning_*``) only asks questions."""
        return not self.status.startswith("warning_")

    def newer_than(self, other: Dispute) -> bool:
        """Whether this report should replace ``other`` (the stored one)."""
        return _RANK.get(self.status, 0) > _RANK.get(other.status, 0) or (
            _RANK.get(self.status, 0) == _RANK.get(other.status, 0)
            and self.status != other.status)

    def snapshot(self) -> dict[str, Any]:
        return asdict(self)


def dispute_from_stripe(obj: Mapping[str, Any], transaction_id: str, at: int) -> Dispute:
    """Our record of Stripe's dispute object (``data.object`` of a ``charge.dispute.*``
    event)."""
    details = obj.get("evidence_details") or {}
    due_by = details.get("due_by")
    charge = obj.get("charge")
    return Dispute(
        id=str(obj["id"]), transaction_id=transaction_id,
        charge_id=str(charge["id"] if isinstance(charge, Mapping) else charge) if charge else None,
        amount=int(obj.get("amount") or 0), currency=str(obj.get("currency") or "usd"),
        reason=str(obj.get("reason") or "general"), status=str(obj.get("status")),
        evidence_due_by=int(due_by) if due_by else None,
        opened_at=int(obj.get("created") or at), updated_at=at)
