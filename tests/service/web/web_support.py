"""A fake ``PaymentService`` for the HTTP layer's tests, the demo people and wins they
use, and a signer for webhook deliveries."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import stripe
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from simulator.common.clock import Clock
from simulator.service.adapters.repositories import Repository
from simulator.service.domain.auction import AuctionWin
from simulator.service.domain.credentials import hash_password
from simulator.service.domain.inbox import InboxEvent
from simulator.service.domain.payment_session import PaymentSession
from simulator.service.domain.user import User
from simulator.service.payments import CheckoutStarted, PaymentStatusView
from simulator.service.payments.inbox import EventInbox

WEBHOOK_SECRET = "whsec_web_layer_tests"
NOW = 1_750_000_000

ALICE = User("usr_alice", "Alice Buyer", "alice@example.test", "buyer", "tok_alice", "US")
BOB = User("usr_bob", "Bob Buyer", "bob@example.test", "buyer", "tok_bob", "GB")
ADMIN = User("usr_admin", "Ada Admin", "ada@example.test", "admin", "tok_admin", "US")
# Each person's password, and its hash made once for the whole run (scrypt is slow on
# purpose: hashing per test would cost seconds).
PASSWORDS = {ALICE.id: "alice-correct-horse", BOB.id: "bob-battery-staple",
             ADMIN.id: "ada-analytical-engine"}
PASSWORD_HASHES = {user_id: hash_password(password) for user_id, password in PASSWORDS.items()}
LOT_17 = AuctionWin("win_17", 17, "Brass carriage clock", "usr_seller", ALICE.id, 64_200,
                    "usd", NOW - 3600)
LOT_18 = AuctionWin("win_18", 18, "Oak writing desk", "usr_seller", ALICE.id, 12_000,
                    "usd", NOW - 30 * 3600)


def payment_session(win: AuctionWin = LOT_17, *, attempt: int = 1, status: str = "open",
                    **changes: Any) -> PaymentSession:
    values: dict[str, Any] = {
        "id": f"ps_{win.id}_{attempt}", "win_id": win.id, "buyer_id": win.buyer_id,
        "attempt": attempt, "status": status, "idempotency_key": f"key_{win.id}_{attempt}",
        "expires_at": win.ended_at + 86_400, "window_ends_at": win.ended_at + 86_400,
        "created_at": NOW - 60, "updated_at": NOW - 60,
        "checkout_session_id": f"cs_test_{win.id}_{attempt}",
        "checkout_url": f"https://checkout.example.test/c/pay/cs_test_{win.id}_{attempt}",
    }
    values.update(changes)
    return PaymentSession(**values)


def status_view(session: PaymentSession, **changes: Any) -> PaymentStatusView:
    values: dict[str, Any] = {
        "id": session.id, "status": session.status, "amount": 64_200, "currency": "usd",
        "amount_display": "$642.00", "seconds_left": 3600 * 23, "attempts_used": session.attempt,
        "attempts_left": 4 - session.attempt, "failure_reason": session.failure_reason,
        "receipt_url": None, "checkout_url": session.checkout_url,
        "expires_at": session.expires_at, "window_ends_at": session.window_ends_at,
        "win_id": session.win_id, "lot": 17, "title": "Brass carriage clock",
        "attempt": session.attempt, "order_id": None,
    }
    values.update(changes)
    return PaymentStatusView(**values)


@dataclass
class FakePaymentService:
    """Answers what a test tells it to, and remembers how it was called. A value in
    ``raises`` (by method name) is raised instead of answering."""

    started: CheckoutStarted = field(
        default_factory=lambda: CheckoutStarted(payment_session(), True))
    view: PaymentStatusView = field(default_factory=lambda: status_view(payment_session()))
    raises: dict[str, Exception] = field(default_factory=dict)
    calls: list[tuple[str, tuple[Any, ...]]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    jobs_run: int = 0
    inbox: EventInbox | None = None  # the real inbox, around this fake's handle_event

    def attach_inbox(self, repo: Repository, clock: Clock) -> None:
        self.inbox = EventInbox(repo, clock, self.handle_event)

    def receive_event(self, event: dict[str, Any], payload: str) -> str:
        assert self.inbox is not None
        return self.inbox.receive(event, payload)

    def replay_event(self, entry: InboxEvent) -> str:
        assert self.inbox is not None
        return self.inbox.replay(entry)

    def _called(self, name: str, *args: Any) -> None:
        self.calls.append((name, args))
        if name in self.raises:
            raise self.raises[name]

    def start_checkout(self, buyer_id: str, auction_id: str,
                       signals: object = None) -> CheckoutStarted:
        self._called("start_checkout", buyer_id, auction_id)
        self.signals = signals
        return self.started

    def retry(self, buyer_id: str, payment_session_id: str,
              signals: object = None) -> CheckoutStarted:
        self._called("retry", buyer_id, payment_session_id)
        self.signals = signals
        return self.started

    def status(self, viewer_id: str, payment_session_id: str) -> PaymentStatusView:
        self._called("status", viewer_id, payment_session_id)
        return self.view

    def confirm_return(self, checkout_session_id: str,
                       viewer_id: str | None = None) -> PaymentStatusView:
        self._called("confirm_return", checkout_session_id, viewer_id)
        return self.view

    def handle_event(self, event: dict[str, Any]) -> None:
        self._called("handle_event", event["id"])
        self.events.append(event)

    def resolve_review(self, admin_id: str, transaction_id: str) -> None:
        self._called("resolve_review", admin_id, transaction_id)

    def refund_order(self, gateway: object, admin_id: str, order_id: str) -> None:
        self._called("refund_order", admin_id, order_id)

    def run_due_jobs(self, now: float | None = None) -> int:
        self._called("run_due_jobs")
        return self.jobs_run

    def run_due_jobs_and_settle(self) -> int:
        self._called("run_due_jobs")
        return self.jobs_run

    def called(self, name: str) -> list[tuple[Any, ...]]:
        return [args for called, args in self.calls if called == name]


def stripe_event(event_id: str = "evt_test_1", event_type: str = "checkout.session.completed",
                 **data: Any) -> bytes:
    body = {"id": event_id, "object": "event", "type": event_type, "created": NOW,
            "livemode": False, "data": {"object": {"id": "cs_test_1", **data}}}
    return json.dumps(body).encode()


def signature(payload: bytes, *, timestamp: int, secret: str = WEBHOOK_SECRET) -> str:
    return stripe.WebhookSignature.generate_signature_header(
        payload.decode(), secret, timestamp=timestamp)


def sign_in(client: FlaskClient, user: User, password: str | None = None,
            next_url: str | None = None) -> TestResponse:
    """Open the login page and post the user's e-mail address and password."""
    client.get("/payments/login")
    form = {"email": user.email, "password": password or PASSWORDS[user.id],
            "csrf_token": csrf(client)}
    if next_url is not None:
        form["next"] = next_url
    return client.post("/payments/login", data=form)


def csrf(client: FlaskClient) -> str:
    """The CSRF token the pages put in their forms, read from the session."""
    with client.session_transaction() as session:
        return str(session["csrf_token"])
