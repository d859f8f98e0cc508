"""A marketplace under test: a real sandbox process, the real payment service serving
over HTTP in this process (so the sandbox delivers signed webhooks to it), buyers calling
its API, and both clocks moved together."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
import stripe

from harness.servers import RunningServer
from harness.service import InProcessService, ServiceClient, service_config
from simulator.common.clock import Clock
from simulator.service.adapters.control_token import HEADER, read_control_token
from simulator.service.adapters.receipts import ReceiptStore
from simulator.service.adapters.repositories import Repository
from simulator.service.adapters.stripe_gateway import StripeGateway
from simulator.service.domain.auction import AuctionWin
from simulator.service.domain.credentials import hash_password
from simulator.service.domain.order import Order
from simulator.service.domain.payment_session import PaymentSession
from simulator.service.domain.transaction import Transaction
from simulator.service.domain.user import User
from simulator.service.payments import PaymentService

SANDBOX_KEY = "sk_test_service_integration"
ALICE = User("usr_alice", "Alice Buyer", "alice@example.test", "buyer", "tok_alice", "US")
BOB = User("usr_bob", "Bob Buyer", "bob@example.test", "buyer", "tok_bob", "US")
ADMIN = User("usr_admin", "Ada Admin", "ada@example.test", "admin", "tok_admin", "US")
PASSWORDS = {ALICE.id: "alice-correct-horse", BOB.id: "bob-battery-staple",
             ADMIN.id: "ada-analytical-engine"}
PASSWORD_HASHES = {user_id: hash_password(password) for user_id, password in PASSWORDS.items()}


@dataclass(frozen=True)
class Account:
    """What a person types on the login page."""

    email: str
    password: str


def account(user: User) -> Account:
    return Account(user.email, PASSWORDS[user.id])


def control_headers(db_path: str) -> dict[str, str]:
    """``X-Test-Token`` of the service whose database is ``db_path``."""
    return {HEADER: read_control_token(db_path) or ""}


class SandboxControl:
    """The sandbox: the official SDK plus its /_sandbox control plane."""

    def __init__(self, server: RunningServer) -> None:
        self.server = server
        self.url = server.url
        self.sdk = stripe.StripeClient(SANDBOX_KEY, base_addresses={"api": server.url},
                                       max_network_retries=0)

    def control(self, verb: str, route: str, **params: Any) -> requests.Response:
        query, form = (params, None) if verb == "GET" else (None, params or None)
        return requests.request(verb, f"{self.url}/_sandbox{route}", params=query,
                                data=form, timeout=60)

    def complete(self, checkout_session_id: str, payment_method: str = "pm_card_visa",
                 three_d_secure: str | None = None) -> dict[str, Any]:
        """Pay a Checkout Session as the buyer would on the hosted page."""
        params = {"payment_method": payment_method}
        if three_d_secure:
            params["three_d_secure"] = three_d_secure
        answer = self.control("POST", f"/checkout/sessions/{checkout_session_id}/complete",
                              **params)
        assert answer.status_code in (200, 402), answer.text
        body: dict[str, Any] = answer.json()
        return body

    def drain(self) -> dict[str, Any]:
        answer = self.control("POST", "/webhooks/drain")
        answer.raise_for_status()
        body: dict[str, Any] = answer.json()
        return body

    def advance(self, seconds: int) -> None:
        self.control("POST", "/clock/advance", seconds=seconds).raise_for_status()

    def offset(self) -> float:
        return float(self.control("GET", "/clock").json()["offset_seconds"])

    def fault(self, *, path: str, action: str = "error", count: int = 1, status: int = 500,
              method: str = "POST", retry_after: int = 1) -> None:
        self.control("POST", "/faults", method=method, path=path, action=action, count=count,
                     status=status, retry_after=retry_after).raise_for_status()

    def faults(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = self.control("GET", "/faults").json()["faults"]
        return found

    def clear_faults(self) -> None:
        self.control("DELETE", "/faults").raise_for_status()

    def chaos(self, endpoint_id: str, **settings: Any) -> None:
        self.control("POST", f"/webhooks/endpoints/{endpoint_id}/chaos",
                     **settings).raise_for_status()

    def resend(self, event_id: str) -> None:
        self.control("POST", f"/webhooks/events/{event_id}/resend").raise_for_status()

    def deliveries(self, **filters: str) -> list[dict[str, Any]]:
        data: list[dict[str, Any]] = self.control(
            "GET", "/webhooks/deliveries", **filters).json()["data"]
        return data

    def checkout_sessions_for(self, win_id: str) -> list[Any]:
        sessions = self.sdk.v1.checkout.sessions.list(params={"limit": 100})
        return [s for s in sessions.auto_paging_iter()
                if (s.to_dict().get("metadata") or {}).get("win_id") == win_id]

    def events_for(self, event_type: str) -> list[Any]:
        events = self.sdk.v1.events.list(params={"type": event_type, "limit": 100})
        return list(events.auto_paging_iter())


@dataclass
class RecordingMailer:
    """Stands in for the SMTP server (B's tests cover real SMTP)."""

    sent: list[tuple[str, str, str, Sequence[tuple[str, bytes, str]]]] = field(
        default_factory=list)

    def send(self, to: str, subject: str, text: str,
             attachments: Sequence[tuple[str, bytes, str]] = ()) -> str:
        self.sent.append((to, subject, text, attachments))
        return f"<mail-{len(self.sent)}@test>"


@dataclass
class Marketplace:
    sandbox: SandboxControl
    service: InProcessService
    clock: Clock
    mailer: RecordingMailer
    sleeps: list[float]

    @property
    def repo(self) -> Repository:
        return self.service.runtime.repo

    @property
    def url(self) -> str:
        return self.service.url

    def client(self, user: User | None = None) -> ServiceClient:
        return ServiceClient(self.url, user.api_token if user else None,
                             test_token=self.service.runtime.test_token)

    def win(self, lot: int, amount: int, *, buyer: User = ALICE, currency: str = "usd",
            ended_ago: int = 60, title: str | None = None) -> AuctionWin:
        """An auction that just ended, recorded as the auction house would."""
        win = AuctionWin(f"win_{lot}", lot, title or f"Lot number {lot}", "usr_seller",
                         buyer.id, amount, currency, self.clock.timestamp() - ended_ago)
        self.service.runtime.service.record_win(win)
        return win

    def start(self, win: AuctionWin, user: User = ALICE) -> dict[str, Any]:
        answer = self.client(user).create_checkout(win.id)
        assert answer.status_code in (200, 201), answer.text
        body: dict[str, Any] = answer.json()
        return body

    def session(self, payment_session_id: str) -> PaymentSession:
        session = self.repo.get_payment_session(payment_session_id)
        assert session is not None
        return session

    def pay(self, payment_session_id: str, payment_method: str = "pm_card_visa",
            three_d_secure: str | None = None) -> dict[str, Any]:
        """The buyer pays on Stripe's page; Stripe then delivers its webhooks."""
        checkout = self.session(payment_session_id).checkout_session_id
        assert checkout is not None
        outcome = self.sandbox.complete(checkout, payment_method, three_d_secure)
        self.sandbox.drain()
        return outcome

    def advance(self, seconds: int) -> None:
        """Move the one time: the service follows the sandbox's clock, and the jump
        runs what falls due on both sides in time order."""
        self.sandbox.advance(seconds)
        self.sandbox.drain()
        self.client().run_jobs()

    def orders(self, win: AuctionWin) -> list[Order]:
        order = self.repo.order_for_win(win.id)
        return [order] if order else []

    def transactions(self, win: AuctionWin) -> list[Transaction]:
        return self.repo.transactions_for_win(win.id)

    def status(self, payment_session_id: str, user: User = ALICE) -> dict[str, Any]:
        answer = self.client(user).status(payment_session_id)
        assert answer.status_code == 200, answer.text
        body: dict[str, Any] = answer.json()
        return body

    def inbox_failures(self) -> list[Any]:
        return self.repo.list_webhook_events("failed")


def eventually(check: Callable[[], bool], drain: Callable[[], object],
               attempts: int = 20) -> bool:
    """Re-drain until ``check`` holds: deliveries a background worker had in flight."""
    for _ in range(attempts):
        if check():
            return True
        drain()
    return check()


def record_win(db_path: str, sandbox_url: str, lot: int, ended_at: int) -> AuctionWin:
    """What the auction house does when an auction ends (through the payment core)."""
    config = service_config(Path(db_path).parent, sandbox_url)
    repo = Repository(db_path)
    if repo.get_user(ALICE.id) is None:
        with repo.transaction():
            repo.add_user(ALICE)
    clock = Clock()
    core = PaymentService(repo, StripeGateway(config, clock), clock, config, None,
                          ReceiptStore(config.receipts_dir, repo.cipher))
    win = AuctionWin(f"win_{lot}", lot, f"Lot number {lot}", "usr_seller", ALICE.id, 64_200,
                     "usd", ended_at)
    core.record_win(win)
    repo.close()
    return win
