"""Demo data for the payment service: buyers, one admin, sellers and auction wins in
every stage of their payment window. Repeatable: Faker and the ids are seeded, and a
database that already has users is left alone. Each buyer has a phone number in the
range kept for fiction, for the text messages.

The demo accounts sign in with passwords made at random when they are first seeded
(``demo_accounts``): only their hashes go into the database; the passwords and API
tokens are printed by ``stripe-sim up`` and kept for the next start in an owner-only file
beside the database, ``<db>.demo-accounts.json``. Delete that file to be given new ones.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from simulator.common.clock import Clock
from simulator.common.ids import IdGenerator
from simulator.service.adapters.repositories import Repository
from simulator.service.adapters.sms_records import TextMessageRecords
from simulator.service.domain.auction import AuctionWin
from simulator.service.domain.audit import SYSTEM, AuditEntry
from simulator.service.domain.credentials import (
    hash_password,
    new_api_token,
    new_password,
    password_matches,
)
from simulator.service.domain.user import User
from simulator.service.domain.window import HOUR, PaymentWindow
from simulator.service.scheduler import CLOSE_WINDOW

LOTS_FILE = Path(__file__).resolve().parents[2] / "fixtures" / "demo" / "lots.json"
# The test cards are US cards: demo buyers in the US pay with them without tripping the
# card-country fraud rule by accident.
DEMO_COUNTRY = "US"
MINUTE = 60
# How long ago each demo auction ended, in seconds, cycling: every window stays open for
# at least 18 hours of a demo unless the presenter moves the clock, but for one already
# closed (to show how a missed window looks).
ENDED_AGO = (10 * MINUTE, 30 * MINUTE, HOUR, 2 * HOUR, 3 * HOUR, 4 * HOUR, 6 * HOUR, 25 * HOUR)


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
    phones = TextMessageRecords(repo)
    with repo.transaction():
        for user in [admin, *people]:
            repo.add_user(user)
        for number, buyer in enumerate(people):
            phones.set_phone(buyer.id, demo_phone(number))
        for win in wins:
            _record(repo, clock, win, window_hours)
    return DemoData(admin, people, wins)


def demo_phone(number: int) -> str:
    """A US number in 555-01xx, the range set aside for fiction: no real phone has one
    (the demo buyers are in the US, like the test cards)."""
    return f"+1202555{100 + number:04d}"


def _user(fake: Any, ids: IdGenerator, role: str, email: str | None = None) -> User:
    first, last = fake.first_name(), fake.last_name()
    return User(
        id=ids.new("usr", 14), name=f"{first} {last}",
        email=email or f"{first}.{last}@example.com".lower().replace(" ", ""),
        role="admin" if role == "admin" else "buyer", api_token=ids.new("tok", 32),
        country=DEMO_COUNTRY,
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


# -- the demo accounts' credentials -----------------------------------------------------------
@dataclass(frozen=True)
class DemoAccount:
    name: str
    email: str
    role: str
    password: str
    api_token: str


def demo_accounts_path(db_path: str) -> Path:
    return Path(f"{db_path}.demo-accounts.json")


def demo_accounts(repo: Repository, data: DemoData, path: Path) -> list[DemoAccount]:
    """The demo users' passwords and API tokens: the ones kept in ``path`` while they
    still sign in, else new ones (their hashes stored, the file rewritten owner-only)."""
    users = [data.admin, *data.buyers]
    kept = read_demo_accounts(path)
    by_email = {account.email: account for account in kept}
    if kept and all(user.email in by_email and password_matches(
            repo.password_hash_of(user.id), by_email[user.email].password) for user in users):
        return kept
    accounts = []
    with repo.transaction():
        for user in users:
            password, token = new_password(), new_api_token()
            repo.set_password_hash(user.id, hash_password(password))
            repo.set_api_token(user.id, token)
            accounts.append(DemoAccount(user.name, user.email, user.role, password, token))
    _write_owner_only(path, json.dumps([asdict(account) for account in accounts], indent=2))
    return accounts


def read_demo_accounts(path: Path) -> list[DemoAccount]:
    try:
        return [DemoAccount(**entry) for entry in json.loads(path.read_text())]
    except (FileNotFoundError, ValueError, TypeError):
        return []


def _write_owner_only(path: Path, text: str) -> None:
    partial = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as file:
        file.write(text)
    partial.replace(path)
