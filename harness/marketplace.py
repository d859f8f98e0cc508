"""The reference marketplace under test, as the BDD features drive it: the payment
service (a real ``stripe-sim service`` process) in front of the sandbox or real Stripe
test mode, a real SMTP server catching its mail, and what a scenario needs to arrange
and check: buyers, won lots (through the auction API, as the auction system sends
them), orders, transactions, mail and receipts."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from harness.data import Buyer, Lot
from harness.mailbox import MailCatcher
from harness.sandbox import SandboxHandle
from harness.servers import RunningServer, free_port
from harness.service import start_service_process
from harness.webhooks import WebhookBuilder
from simulator.common.clock import system_time
from simulator.service.adapters.control_token import HEADER, read_control_token
from simulator.service.adapters.repositories import Repository
from simulator.service.adapters.webhook_endpoint import WEBHOOK_PATH, stored_endpoint
from simulator.service.domain.credentials import hash_password
from simulator.service.domain.order import Order
from simulator.service.domain.payment_session import PaymentSession
from simulator.service.domain.transaction import Transaction
from simulator.service.domain.user import Role, User

AUCTION_TOKEN_VARIABLE = "AUCTION_API_TOKEN"


@dataclass(frozen=True)
class WonLot:
    """A lot a buyer won: the win's id at the service, and what was won."""

    win_id: str
    buyer: Buyer
    lot: Lot
    ended_at: int


@dataclass
class Marketplace:
    workdir: Path
    sandbox: SandboxHandle | None
    mail: MailCatcher
    port: int = field(default_factory=free_port)
    auction_token: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    server: RunningServer | None = None
    env: dict[str, str] = field(default_factory=dict)

    # -- the service process ---------------------------------------------------------------
    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def db_path(self) -> str:
        return str(self.workdir / "service.sqlite3")

    def start(self) -> Marketplace:
        env = {AUCTION_TOKEN_VARIABLE: self.auction_token, "SMTP_HOST": self.mail.host,
               "SMTP_PORT": str(self.mail.port), "SERVICE_REMINDER_JITTER_SECONDS": "0",
               "SERVICE_RATE_LIMITS": "off",  # scenarios sign in and pay far faster than people
               **self.env}
        self.server = start_service_process(
            self.workdir, self.sandbox.url if self.sandbox else "", port=self.port,
            workers=2, threads=4, env=env, new_session=True)
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()

    def crash_and_restart(self) -> None:
        """SIGKILL the service (every worker with it), then start it on the same data."""
        assert self.server is not None
        self.server.kill()
        self.start()

    def reset(self) -> None:
        """A clean slate between scenarios (users and the webhook endpoint stay)."""
        self._test_route("/_test/reset")

    @property
    def test_headers(self) -> dict[str, str]:
        """What the test routes ask for: the token the service keeps beside its database."""
        token = read_control_token(self.db_path)
        assert token, f"the service at {self.url} has no test token beside {self.db_path}"
        return {HEADER: token}

    def _test_route(self, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        answer = requests.post(f"{self.url}{path}", json=body or {}, timeout=120,
                               headers=self.test_headers)
        answer.raise_for_status()
        result: dict[str, Any] = answer.json()
        return result

    def run_jobs(self) -> None:
        self._test_route("/_test/jobs/run")

    def arm_crash(self, point: str) -> None:
        self._test_route("/_test/faults", {"crash_at": point, "count": 1})

    # -- arranging ---------------------------------------------------------------------------
    def add_buyer(self, buyer: Buyer) -> Buyer:
        return self._add_user(buyer, "buyer")

    def add_admin(self, buyer: Buyer) -> Buyer:
        return self._add_user(buyer, "admin")

    def _add_user(self, person: Buyer, role: Role) -> Buyer:
        """As the marketplace's accounts would: a password hash and a token digest."""
        with self.repository() as repo, repo.transaction():
            repo.add_user(User(person.id, person.name, person.email, role, person.api_token,
                               person.country))
            repo.set_password_hash(person.id, hash_password(person.password))
        return person

    def record_win(self, buyer: Buyer, lot: Lot, *, ended_ago: int = 60,
                   now: float | None = None) -> WonLot:
        """What the auction system sends when an auction ends."""
        ended_at = int((now if now is not None else self.now()) - ended_ago)
        win_id = f"auc_{lot.number}_{buyer.id[-6:]}"
        answer = requests.post(f"{self.url}/payments/wins", timeout=30, headers={
            "Authorization": f"Bearer {self.auction_token}"}, json={
            "auction_id": win_id, "lot": lot.number, "title": lot.title,
            "seller_id": "sel_house", "buyer_id": buyer.id, "amount": lot.amount,
            "currency": lot.currency, "ended_at": ended_at})
        assert answer.status_code in (200, 201), answer.text
        return WonLot(win_id, buyer, lot, ended_at)

    def now(self) -> float:
        answer = requests.get(f"{self.url}/_test/clock", timeout=30, headers=self.test_headers)
        answer.raise_for_status()
        return float(answer.json()["now"]) + (system_time() % 1)

    # -- checking ------------------------------------------------------------------------
    @contextmanager
    def repository(self) -> Iterator[Repository]:
        repo = Repository(self.db_path)
        try:
            yield repo
        finally:
            repo.close()

    def orders(self, won: WonLot) -> list[Order]:
        with self.repository() as repo:
            order = repo.order_for_win(won.win_id)
        return [order] if order else []

    def transactions(self, won: WonLot) -> list[Transaction]:
        with self.repository() as repo:
            return repo.transactions_for_win(won.win_id)

    def payment_sessions(self, won: WonLot) -> list[PaymentSession]:
        with self.repository() as repo:
            return repo.sessions_for_win(won.win_id)

    def mail_to(self, buyer: Buyer) -> list[dict[str, Any]]:
        """Mail the service queued for the buyer (sent or not)."""
        with self.repository() as repo:  # addresses are encrypted: found by blind index
            return repo.mail_to(buyer.email)

    def alerts(self, kind: str | None = None) -> list[Any]:
        with self.repository() as repo:
            return [a for a in repo.list_alerts() if kind is None or a.kind == kind]

    def webhook_builder(self, now: float | None = None) -> WebhookBuilder:
        """Deliveries signed with the service's own secret, on the servers' time."""
        with self.repository() as repo:
            endpoint = stored_endpoint(repo)
        secret = os.environ.get("STRIPE_WEBHOOK_SECRET", "") if endpoint is None \
            else endpoint.secret
        return WebhookBuilder(f"{self.url}{WEBHOOK_PATH}", secret, now=self.now)
