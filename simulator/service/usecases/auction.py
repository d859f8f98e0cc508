"""The auction system's closed auctions (``POST /payments/wins``): the winner must be a
buyer, and a win is recorded once however often the timer reports it."""

from __future__ import annotations

from dataclasses import asdict
from typing import Protocol

from simulator.service.domain.auction import AuctionWin
from simulator.service.domain.stores import Conflict, UserStore


class WinLookup(UserStore, Protocol):
    def get_win(self, win_id: str) -> AuctionWin | None: ...


class WinRecorder(Protocol):
    """``PaymentService.record_win``: the win and its window's closing job."""

    def record_win(self, win: AuctionWin) -> None: ...


class WinConflict(Exception):
    """The auction was already recorded with other values (``differing`` names them)."""

    def __init__(self, win_id: str, differing: list[str]) -> None:
        super().__init__(f"Auction {win_id} was already recorded with a different "
                         f"{', '.join(differing)}.")
        self.differing = differing


class AuctionWins:
    def __init__(self, store: WinLookup, recorder: WinRecorder) -> None:
        self.store = store
        self.recorder = recorder

    def is_buyer(self, user_id: str) -> bool:
        user = self.store.get_user(user_id)
        return user is not None and user.role == "buyer"

    def record_once(self, win: AuctionWin) -> tuple[AuctionWin, bool]:
        """The recorded win, and whether this call recorded it. The timer may send a win
        twice (a retry, or two deliveries racing): the first write wins, the primary key
        refuses the second, which then compares; other values raise ``WinConflict``."""
        existing = self.store.get_win(win.id)
        if existing is None:
            try:
                self.recorder.record_win(win)
                return win, True
            except Conflict:
                existing = self.store.get_win(win.id)
                if existing is None:
                    raise
        differing = [name for name, value in asdict(win).items()
                     if getattr(existing, name) != value]
        if differing:
            raise WinConflict(win.id, differing)
        return existing, False
