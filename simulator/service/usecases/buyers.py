"""What the buyer's pages read: their wins, each with its payment attempts and order,
and an order whose receipt is asked for."""

from __future__ import annotations

from dataclasses import dataclass

from simulator.service.domain.auction import AuctionWin
from simulator.service.domain.order import Order
from simulator.service.domain.payment_session import PaymentSession
from simulator.service.domain.stores import BuyerReads


@dataclass(frozen=True)
class WinPayments:
    """A won lot with its payment attempts (oldest first) and its order, if any."""

    win: AuctionWin
    sessions: list[PaymentSession]
    order: Order | None


class BuyerQueries:
    def __init__(self, store: BuyerReads) -> None:
        self.store = store

    def winnings(self, buyer_id: str) -> list[WinPayments]:
        """The buyer's wins, the most recently ended first."""
        return [WinPayments(win, self.store.sessions_for_win(win.id),
                            self.store.order_for_win(win.id))
                for win in self.store.wins_for_buyer(buyer_id)]

    def order(self, order_id: str) -> Order | None:
        return self.store.get_order(order_id)
