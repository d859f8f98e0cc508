"""The marketplace's order for a win: made exactly once when the payment succeeds.

A win whose window closes unpaid also gets an Order row, ``canceled`` with no
transaction, so every win ends with at most one Order saying how it ended (the
``orders.win_id`` column is UNIQUE). A payment Stripe reports after that (made before
the session closed, its webhook late) turns the canceled order ``paid``: the money is
never ignored, and an alert asks a human to look.

``created`` is the state of an order whose payment is still in flight; card payments,
the only method the Checkout Sessions offer, go straight to ``paid``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any, Literal

Status = Literal["created", "paid", "canceled", "refunded"]

TRANSITIONS: dict[str, frozenset[str]] = {
    "created": frozenset({"paid", "canceled"}),
    "paid": frozenset({"refunded"}),
    "canceled": frozenset({"paid"}),
    "refunded": frozenset(),
}


class InvalidTransition(ValueError):
    pass


@dataclass(frozen=True)
class Order:
    id: str
    win_id: str
    buyer_id: str
    status: Status
    created_at: int
    updated_at: int
    transaction_id: str | None = None
    receipt_path: str | None = None
    # The PDF's SHA-256, recorded when it is written and checked whenever it is read.
    receipt_sha256: str | None = None

    def transition(self, status: Status, at: int, **changes: Any) -> Order:
        if status not in TRANSITIONS[self.status]:
            raise InvalidTransition(f"order {self.id}: {self.status} -> {status}")
        return replace(self, status=status, updated_at=at, **changes)

    def with_receipt(self, path: str, sha256: str | None, at: int) -> Order:
        return replace(self, receipt_path=path, receipt_sha256=sha256, updated_at=at)

    def snapshot(self) -> dict[str, Any]:
        return asdict(self)
