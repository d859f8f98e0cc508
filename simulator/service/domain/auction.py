"""The auction side of a payment: what was won, by whom, for how much."""

from __future__ import annotations

from dataclasses import dataclass

from simulator.service.domain.money import format_money


@dataclass(frozen=True)
class AuctionWin:
    """A closed auction and its winner. ``amount`` is in minor units, ``ended_at`` is
    a unix timestamp: the payment window starts there."""

    id: str
    lot: int
    title: str
    seller_id: str
    buyer_id: str
    amount: int
    currency: str
    ended_at: int

    @property
    def description(self) -> str:
        """What the buyer sees on the Checkout page and the receipt."""
        return f"Lot {self.lot}: {self.title}"

    @property
    def amount_display(self) -> str:
        return format_money(self.amount, self.currency)
