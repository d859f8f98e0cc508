"""Demo data for the payment service: buyers, one admin, sellers and auction wins in
every stage of their payment window. Repeatable: Faker and the ids are seeded, and a
database that already has users is left alone."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from simulator.common.clock import Clock
from simulator.common.ids import IdGenerator
from simulator.service.adapters.repositories import Repository
from simulator.service.domain.auction import AuctionWin
from simulator.service.domain.audit import SYSTEM, AuditEntry
from simulator.service.domain.user import User
from simulator.service.domain.window import HOUR, PaymentWindow
from simulator.service.scheduler import CLOSE_WINDOW

LOTS_FILE = Path(__file__).resolve().parents[2] / "fixtures" / "demo" / "lots.json"
COUNTRIES = ("US", "US", "US", "GB", "DE", "FR")
MINUTE = 60
# How long ago each demo auction ended, in seconds, cycling: fresh wins, wins in the
# middle of their window, two about to close, and one whose window has already closed.
ENDED_AGO = (
    10 * MINUTE, 2 * HOUR, 5 * HOUR, 12 * HOUR, 20 * HOUR,
    24 * HOUR - 25 * MINUTE, 24 * HOUR - 5 * MINUTE, 25 * HOUR,
)


@dataclass(frozen=True)
class DemoData:
    admin: User
    buyers: list[User]
    wins: list[AuctionWin]


def demo_lots(path: Path = LOTS_FILE) -> list[dict[str, Any]]:
    lots: list[dict[str, Any]] = json.loads(path.read_text())
    return lots


def seed_demo(repo: Repository, clock: Clock, ids: IdGenerator, count: int = 8, *,
              buyers: int = 3, seed: int = 1212, window_hours: int = 24) -> DemoData:
    """``count`` wins spread over ``buyers`` buyers, each win's window-closing job
    scheduled, in one transaction."""
    existing = repo.list_users()
    if existing:
        return _existing(repo, existing)
    from faker import Faker  # a demo-only dependency

    fake = Faker()
    fake.seed_instance(seed)
    admin = _user(fake, ids, "admin", "admin@auction.test")
    people = [_user(fake, ids, "buyer") for _ in range(buyers)]
    sellers = [ids.new("sel", 14) for _ in range(max(2, count // 3))]
    wins = _wins(ids, clock.timestamp(), people, sellers, count)
    with repo.transaction():
        for user in [admin, *people]:
            repo.add_user(user)
        for win in wins:
            _record(repo, clock, win, window_hours)
    return DemoData(admin, people, wins)


def _user(fake: Any, ids: IdGenerator, role: str, email: str | None = None) -> User:
    first, last = fake.first_name(), fake.last_name()
    return User(
        id=ids.new("usr", 14), name=f"{first} {last}",
        email=email or f"{first}.{last}@example.com".lower().replace(" ", ""),
        role="admin" if role == "admin" else "buyer", api_token=ids.new("tok", 32),
        country=fake.random_element(COUNTRIES),
    )


def _wins(ids: IdGenerator, now: int, buyers: list[User], sellers: list[str],
          count: int) -> list[AuctionWin]:
    lots = demo_lots()
    wins = []
    for index in range(count):
        lot = lots[index % len(lots)]
        wins.append(AuctionWin(
            id=ids.new("win", 14), lot=int(lot["lot"]) + 100 * (index // len(lots)),
            title=str(lot["title"]), seller_id=sellers[index % len(sellers)],
            buyer_id=buyers[index % len(buyers)].id, amount=int(lot["amount"]),
            currency=str(lot["currency"]), ended_at=now - ENDED_AGO[index % len(ENDED_AGO)],
        ))
    return wins


def _record(repo: Repository, clock: Clock, win: AuctionWin, window_hours: int) -> None:
    """What ``PaymentService.record_win`` does, without needing a gateway."""
    repo.add_win(win)
    repo.add_audit(AuditEntry(SYSTEM, "win.recorded", "win", win.id, None, asdict(win),
                              clock.timestamp()))
    repo.schedule_job(CLOSE_WINDOW, win.id, PaymentWindow(win.ended_at, window_hours).closes_at,
                      clock.timestamp())


def _existing(repo: Repository, users: list[User]) -> DemoData:
    admin = next(user for user in users if user.is_admin) if any(
        user.is_admin for user in users) else users[0]
    buyers = [user for user in users if not user.is_admin]
    return DemoData(admin, buyers, repo.list_wins())
