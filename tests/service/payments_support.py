"""Test doubles for ``PaymentService`` unit tests: an in-memory Stripe that keeps
Checkout Sessions and PaymentIntents the way Stripe does and returns the events it would
send, a mailer that records messages, and a receipt store in a dict.

The integration tests over real HTTP against the sandbox live in
``tests/service/integration``; these doubles only serve the unit tests of the rules."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any

from freezegun import freeze_time
from freezegun.api import FrozenDateTimeFactory

from simulator.common.clock import Clock
from simulator.common.ids import IdGenerator
from simulator.service.adapters.errors import MailNotSent, PaymentsUnavailable, StripeRejected
from simulator.service.adapters.repositories import Repository
from simulator.service.adapters.stripe_gateway import CheckoutSessionInfo, PaymentDetails
from simulator.service.config import ServiceConfig
from simulator.service.domain.auction import AuctionWin
from simulator.service.domain.transaction import Transaction
from simulator.service.domain.user import User
from simulator.service.payments import PaymentService

START = "2025-03-01 12:00:00"
HOUR = 3600



@contextmanager
def frozen_at(moment: str = START) -> Iterator[FrozenDateTimeFactory]:
    """Time stands still at ``moment`` until the test moves it."""
    with freeze_time(moment) as factory:
        assert isinstance(factory, FrozenDateTimeFactory)
        yield factory


CARDS: dict[str, dict[str, Any]] = {
    "visa": {"brand": "visa", "last4": "4242", "country": "US", "three_d_secure": None,
             "risk_level": "normal", "risk_score": 20, "fingerprint": "fpVisa4242"},
    "visa_3ds": {"brand": "visa", "last4": "3184", "country": "US",
                 "three_d_secure": "authenticated", "risk_level": "normal", "risk_score": 12,
                 "fingerprint": "fpVisa3184"},
    "risky": {"brand": "visa", "last4": "9235", "country": "US", "three_d_secure": None,
              "risk_level": "elevated", "risk_score": 70, "fingerprint": "fpVisa9235"},
    "french": {"brand": "mastercard", "last4": "4444", "country": "FR",
               "three_d_secure": None, "risk_level": "normal", "risk_score": 5,
               "fingerprint": "fpMc4444"},
}


@dataclass
class FakeIntent:
    id: str
    amount: int
    currency: str
    metadata: dict[str, str]
    status: str = "requires_payment_method"
    card: dict[str, Any] = field(default_factory=dict)
    error: dict[str, Any] | None = None

    def as_object(self) -> dict[str, Any]:
        return {"id": self.id, "object": "payment_intent", "status": self.status,
                "amount": self.amount, "currency": self.currency,
                "metadata": dict(self.metadata), "last_payment_error": self.error}


class FakeStripe:
    """Implements ``payments.Gateway``; ``calls`` counts each method's use."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.sessions: dict[str, CheckoutSessionInfo] = {}
        self.by_key: dict[str, str] = {}
        self.intents: dict[str, FakeIntent] = {}
        self.requests: dict[str, dict[str, Any]] = {}
        self.calls: dict[str, int] = {}
        self.unavailable: PaymentsUnavailable | None = None
        self.reject_create: StripeRejected | None = None
        self.while_creating: Callable[[], None] | None = None
        self._numbers = itertools.count(1)

    def _call(self, name: str) -> None:
        self.calls[name] = self.calls.get(name, 0) + 1
        if self.unavailable is not None:
            raise self.unavailable

    # -- the Gateway protocol --------------------------------------------------------------
    def create_checkout_session(self, *, idempotency_key: str, amount: int, currency: str,
                                description: str, customer_email: str | None,
                                success_url: str, cancel_url: str, expires_at: int,
                                metadata: Mapping[str, str],
                                request_three_d_secure: bool) -> CheckoutSessionInfo:
        self._call("create")
        if self.reject_create is not None:
            raise self.reject_create
        if idempotency_key in self.by_key:
            return self.sessions[self.by_key[idempotency_key]]
        if self.while_creating is not None:
            self.while_creating()
        session_id = f"cs_test_{next(self._numbers)}"
        info = CheckoutSessionInfo(
            id=session_id, url=f"https://checkout.test/{session_id}", status="open",
            payment_status="unpaid", expires_at=expires_at, payment_intent_id=None,
            amount_total=amount, currency=currency, metadata=dict(metadata))
        self.sessions[session_id] = info
        self.by_key[idempotency_key] = session_id
        self.requests[session_id] = {"request_three_d_secure": request_three_d_secure,
                                     "customer_email": customer_email,
                                     "success_url": success_url, "cancel_url": cancel_url,
                                     "description": description}
        return info

    def retrieve_checkout_session(self, session_id: str) -> CheckoutSessionInfo:
        self._call("retrieve")
        return self.sessions[session_id]

    def expire_checkout_session(self, session_id: str) -> CheckoutSessionInfo:
        self._call("expire")
        info = self.sessions[session_id]
        if info.status == "open":
            info = self._save(replace(info, status="expired", url=None))
        return info

    def payment_details(self, payment_intent_id: str) -> PaymentDetails:
        self._call("payment_details")
        intent = self.intents[payment_intent_id]
        card, error = intent.card, intent.error or {}
        fee = round(intent.amount * 0.029) + 30 if intent.status == "succeeded" else None
        return PaymentDetails(
            payment_intent_id=intent.id, status=intent.status, amount=intent.amount,
            currency=intent.currency, charge_id=f"ch_{intent.id[3:]}",
            card_brand=card.get("brand"), card_last4=card.get("last4"),
            card_country=card.get("country"),
            three_d_secure_result=card.get("three_d_secure"),
            risk_level=card.get("risk_level"), risk_score=card.get("risk_score"),
            fee=fee, net=intent.amount - fee if fee is not None else None,
            failure_code=error.get("code"), decline_code=error.get("decline_code"),
            failure_message=error.get("message"),
            payment_session_id=intent.metadata.get("payment_session_id"),
            card_fingerprint=card.get("fingerprint"))

    # -- what a buyer does on the Checkout page ---------------------------------------------
    def pay(self, session_id: str, card: str = "visa") -> list[dict[str, Any]]:
        """Pay the session; the events Stripe sends, in Stripe's usual order."""
        info = self.sessions[session_id]
        assert info.status == "open", f"{session_id} is {info.status}"
        intent = self._intent(info)
        intent.status, intent.card, intent.error = "succeeded", CARDS[card], None
        info = self._save(replace(self.sessions[session_id], status="complete",
                                  payment_status="paid", url=None))
        return [self.event("checkout.session.completed", self.session_object(info)),
                self.event("payment_intent.succeeded", intent.as_object())]

    def decline(self, session_id: str, decline_code: str = "insufficient_funds",
                code: str = "card_declined") -> dict[str, Any]:
        """A declined card: the session stays open, the PaymentIntent records the error."""
        intent = self._intent(self.sessions[session_id])
        intent.status = "requires_payment_method"
        intent.error = {"code": code, "decline_code": decline_code,
                        "message": "Your card was declined."}
        return self.event("payment_intent.payment_failed", intent.as_object())

    def expire(self, session_id: str) -> dict[str, Any]:
        info = self._save(replace(self.sessions[session_id], status="expired", url=None))
        return self.event("checkout.session.expired", self.session_object(info))

    def refund(self, payment_intent_id: str, amount: int | None = None) -> dict[str, Any]:
        intent = self.intents[payment_intent_id]
        charge = {"id": f"ch_{intent.id[3:]}", "object": "charge",
                  "payment_intent": intent.id, "amount": intent.amount,
                  "amount_refunded": amount if amount is not None else intent.amount,
                  "metadata": dict(intent.metadata)}
        return self.event("charge.refunded", charge)

    def event(self, event_type: str, obj: dict[str, Any]) -> dict[str, Any]:
        return {"id": f"evt_{next(self._numbers)}", "object": "event", "type": event_type,
                "created": self.clock.timestamp(), "data": {"object": obj}}

    def session_object(self, info: CheckoutSessionInfo) -> dict[str, Any]:
        return {"id": info.id, "object": "checkout.session", "status": info.status,
                "payment_status": info.payment_status, "payment_intent": info.payment_intent_id,
                "metadata": dict(info.metadata), "expires_at": info.expires_at,
                "amount_total": info.amount_total, "currency": info.currency}

    def _intent(self, info: CheckoutSessionInfo) -> FakeIntent:
        """Checkout makes the PaymentIntent at the first attempt and reuses it."""
        if info.payment_intent_id is None:
            intent = FakeIntent(f"pi_{next(self._numbers)}", info.amount_total, info.currency,
                                dict(info.metadata))
            self.intents[intent.id] = intent
            self._save(replace(info, payment_intent_id=intent.id))
            return intent
        return self.intents[info.payment_intent_id]

    def _save(self, info: CheckoutSessionInfo) -> CheckoutSessionInfo:
        self.sessions[info.id] = info
        return info


@dataclass
class SentMail:
    to: str
    subject: str
    text: str
    attachments: list[tuple[str, bytes, str]]


class FakeMailer:
    def __init__(self) -> None:
        self.sent: list[SentMail] = []
        self.failure: MailNotSent | None = None

    def send(self, to: str, subject: str, text: str,
             attachments: Sequence[tuple[str, bytes, str]] = ()) -> str:
        if self.failure is not None:
            raise self.failure
        self.sent.append(SentMail(to, subject, text, list(attachments)))
        return f"<{len(self.sent)}@test>"


class DictReceipts:
    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}

    def save(self, order_id: str, pdf: bytes) -> str:
        self.files[order_id] = pdf
        return f"memory://{order_id}.pdf"

    def load(self, order_id: str, sha256: str | None = None) -> bytes | None:
        return self.files.get(order_id)


def stub_render(win: AuctionWin, txn: Transaction, order_id: str, buyer: User,
                merchant: str) -> bytes:
    return f"%PDF-stub {order_id} {win.title} {txn.card_last4}".encode()


@dataclass
class World:
    """A service with its doubles, a buyer, an admin and one win that just ended."""

    service: PaymentService
    repo: Repository
    stripe: FakeStripe
    mailer: FakeMailer
    receipts: DictReceipts
    clock: Clock
    frozen: FrozenDateTimeFactory
    buyer: User
    admin: User
    win: AuctionWin

    def advance(self, seconds: float) -> None:
        self.frozen.tick(seconds)

    def deliver(self, *events: dict[str, Any]) -> None:
        for event in events:
            self.service.handle_event(event)

    def start(self) -> str:
        """Start a checkout; the Checkout Session's id."""
        started = self.service.start_checkout(self.buyer.id, self.win.id)
        assert started.payment_session.checkout_session_id is not None
        return started.payment_session.checkout_session_id

    def add_win(self, amount: int = 64200, currency: str = "usd",
                ended_ago: int = 60) -> AuctionWin:
        win = AuctionWin(id=IdGenerator().new("win", 10), lot=17,
                         title="Art deco bronze table lamp", seller_id="sel_1",
                         buyer_id=self.buyer.id, amount=amount, currency=currency,
                         ended_at=self.clock.timestamp() - ended_ago)
        self.service.record_win(win)
        return win


def make_world(tmp_path: Any, frozen: FrozenDateTimeFactory, **config: Any) -> World:
    clock = Clock()
    settings = {"db_path": str(tmp_path / "service.sqlite3"),
                "public_url": "http://shop.test", "reminder_jitter_seconds": 0, **config}
    repo = Repository(settings["db_path"])
    stripe, mailer, receipts = FakeStripe(clock), FakeMailer(), DictReceipts()
    service = PaymentService(repo, stripe, clock, ServiceConfig(**settings), mailer,
                             receipts, ids=IdGenerator(7), render_receipt=stub_render)
    buyer = User("usr_buyer", "Grace Hopper", "grace@example.com", "buyer", "tok_buyer", "US")
    admin = User("usr_admin", "Ada Admin", "admin@auction.test", "admin", "tok_admin", "US")
    other = User("usr_other", "Alan Turing", "alan@example.com", "buyer", "tok_other", "GB")
    with repo.transaction():
        for user in (buyer, admin, other):
            repo.add_user(user)
    world = World(service, repo, stripe, mailer, receipts, clock, frozen, buyer, admin,
                  win=None)  # type: ignore[arg-type]
    world.win = world.add_win()
    return world

