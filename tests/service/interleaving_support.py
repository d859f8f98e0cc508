"""A payment service behind its real webhook route, an in-memory Stripe that plays out a
few checkouts, and what the service ends up believing about each win.

``test_event_interleavings.py`` stages the same checkouts twice, on two fresh databases:
once their events are delivered in Stripe's order, each once; once in a chaotic schedule
of duplicates, reorderings and failed deliveries that are delivered again. Stripe has
already done everything before the first delivery, so when a handler asks Stripe about
a PaymentIntent it reads the final state in both runs, as it would for a late or
redelivered event (https://docs.stripe.com/webhooks#event-ordering)."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal

import stripe
from flask import Flask
from flask.testing import FlaskClient
from payments_support import CARDS, DictReceipts, FakeMailer, FakeStripe, stub_render

from harness.service import service_config
from simulator.common.clock import Clock
from simulator.common.ids import IdGenerator
from simulator.service.adapters.errors import PaymentsUnavailable
from simulator.service.adapters.repositories import Repository
from simulator.service.adapters.stripe_gateway import StripeGateway
from simulator.service.app import create_app
from simulator.service.domain.auction import AuctionWin
from simulator.service.domain.user import User
from simulator.service.payments import PaymentService
from simulator.service.scheduler import SEND_REMINDER
from simulator.service.web.runtime import EXTENSION, ServiceRuntime

WEBHOOK_URL = "/payments/webhooks/stripe"
WEBHOOK_SECRET = "whsec_interleaving_tests"
START = 1_750_000_000
UNREACHABLE_STRIPE = "http://127.0.0.1:9"
BUYER = User("usr_buyer", "Grace Hopper", "grace@example.com", "buyer", "tok_buyer", "US")

# How a checkout ends at Stripe. "retried_paid": the first attempt is declined, the buyer
# retries once the service knows (the old Checkout Session is expired via the API) and
# pays on the second. "delayed_*": a delayed payment method (completed while unpaid,
# then checkout.session.async_payment_succeeded or _failed).
Ending = Literal["paid", "retried_paid", "expired", "left_open", "delayed_paid",
                 "delayed_failed"]
# A delivery that fails: Stripe is unreachable while the handler needs it; the worker
# loses its database before the work; or the work commits and the answer is lost.
Fault = Literal["stripe_down", "crash_before", "crash_after"]
Refunds = Literal["none", "full", "partial", "partial_then_full"]
Crash = Literal["before", "after"]
CRASHES: dict[Fault, Crash] = {"crash_before": "before", "crash_after": "after"}


@dataclass(frozen=True)
class CheckoutPlan:
    """One win and what its buyer and Stripe do with it. ``declines`` are decline codes
    on the paying attempt's PaymentIntent before the ending."""

    amount: int
    card: str = "visa"
    declines: tuple[str, ...] = ()
    ending: Ending = "paid"
    refunds: Refunds = "none"

    def refunded_amounts(self) -> tuple[int, ...]:
        """``amount_refunded`` of each ``charge.refunded``: the running total."""
        half = self.amount // 2
        return {"none": (), "full": (self.amount,), "partial": (half,),
                "partial_then_full": (half, self.amount)}[self.refunds]


@dataclass(frozen=True)
class StripeEvent:
    win_id: str
    body: dict[str, Any]
    # Delivered once, in order, while staging: the service had to know it before the
    # buyer could retry. Chaotic schedules deliver it again.
    prelude: bool = False

    @property
    def id(self) -> str:
        return str(self.body["id"])

    @property
    def type(self) -> str:
        return str(self.body["type"])


@dataclass(frozen=True)
class Delivery:
    event: int  # index in the canonical event list
    fault: Fault | None = None


@dataclass(frozen=True)
class Answer:
    event_id: str
    fault: Fault | None
    http_status: int
    outcome: str | None  # processed, duplicate or in_progress; None when refused

    @property
    def ran_handler(self) -> bool:
        """The inbox claimed the event (the row's ``attempts`` counts these)."""
        return self.http_status == 500 or self.outcome == "processed"


@dataclass(frozen=True)
class WinOutcome:
    """What the service believes about one win, without the ids it made itself (a
    chaotic run makes its transactions and orders in another order)."""

    order: tuple[str, str | None, bool] | None  # status, PaymentIntent, receipt attached
    transactions: tuple[tuple[Any, ...], ...]
    sessions: tuple[tuple[Any, ...], ...]
    receipt_mails: tuple[str, ...]  # the status of each queued receipt mail
    reminders: tuple[str, ...]  # pending reminder jobs


@dataclass(frozen=True)
class EndState:
    wins: dict[str, WinOutcome]
    mails_sent: tuple[tuple[str, str, int], ...]  # to, subject, attachments
    alerts: tuple[str, ...]  # kinds, without the handler failures a fault causes


class ManualClock(Clock):
    """Stands at ``start`` until moved, so both runs of an example see the same times
    (without freezegun, whose patching of every loaded module costs per example)."""

    def __init__(self, start: float) -> None:
        super().__init__()
        self.start = start

    def now(self) -> float:
        return self.start + self.offset


class DelayedPaymentsStripe(FakeStripe):
    """The in-memory Stripe, plus delayed payment methods (bank debits): the Checkout
    Session completes unpaid and the payment settles days later
    (https://docs.stripe.com/payments/checkout/fulfill-orders#delayed-notification)."""

    def pay_later(self, session_id: str, card: str = "visa") -> dict[str, Any]:
        intent = self._intent(self.sessions[session_id])
        intent.status, intent.card, intent.error = "processing", CARDS[card], None
        info = self._save(replace(self.sessions[session_id], status="complete",
                                  payment_status="unpaid", url=None))
        return self.event("checkout.session.completed", self.session_object(info))

    def settle(self, session_id: str, succeeded: bool) -> list[dict[str, Any]]:
        info = self.sessions[session_id]
        intent = self.intents[str(info.payment_intent_id)]
        if succeeded:
            intent.status = "succeeded"
            info = self._save(replace(info, payment_status="paid"))
            return [self.event("payment_intent.succeeded", intent.as_object()),
                    self.event("checkout.session.async_payment_succeeded",
                               self.session_object(info))]
        intent.status = "requires_payment_method"
        intent.error = {"code": "payment_method_provider_decline",
                        "decline_code": "insufficient_funds",
                        "message": "The bank refused the debit."}
        return [self.event("payment_intent.payment_failed", intent.as_object()),
                self.event("checkout.session.async_payment_failed",
                           self.session_object(info))]

    def expire_by_api(self, session_id: str) -> dict[str, Any]:
        """The event Stripe sends after the service expired a session through the API."""
        return self.event("checkout.session.expired",
                          self.session_object(self.sessions[session_id]))


class FlakyPaymentService(PaymentService):
    """Fails the handling of the delivery being made, when told to."""

    crash: Crash | None = None

    def handle_event(self, event: Mapping[str, Any]) -> None:
        if self.crash == "before":
            raise ConnectionError("lost the database connection before the work")
        super().handle_event(event)
        if self.crash == "after":
            raise ConnectionError("the work committed, the answer was lost")


@dataclass
class Marketplace:
    """One service on a fresh database, reached only through its webhook route."""

    app: Flask
    client: FlaskClient
    service: FlakyPaymentService
    stripe: DelayedPaymentsStripe
    mailer: FakeMailer
    repo: Repository
    clock: ManualClock

    # -- Stripe's deliveries -------------------------------------------------------------
    def deliver(self, event: StripeEvent, fault: Fault | None = None) -> Answer:
        """POST one signed delivery, as Stripe signs each attempt when it sends it."""
        payload = json.dumps(event.body).encode()
        header = stripe.WebhookSignature.generate_signature_header(
            payload.decode(), WEBHOOK_SECRET, timestamp=self.clock.timestamp())
        self.stripe.unavailable = (PaymentsUnavailable("retries_exhausted")
                                   if fault == "stripe_down" else None)
        self.service.crash = CRASHES.get(fault) if fault else None
        try:
            response = self.client.post(WEBHOOK_URL, data=payload, headers={
                "Content-Type": "application/json", "Stripe-Signature": header})
        finally:
            self.stripe.unavailable, self.service.crash = None, None
        body = response.get_json(silent=True) or {}
        return Answer(event.id, fault, response.status_code, body.get("status"))

    # -- the checkouts ------------------------------------------------------------------
    def stage(self, plans: Sequence[CheckoutPlan]) -> list[StripeEvent]:
        """Record a win per plan and play each out at Stripe; every event Stripe sent,
        in Stripe's order."""
        events: list[StripeEvent] = []
        for number, plan in enumerate(plans, 1):
            win = AuctionWin(f"win_{number}", number, f"Lot {number}", "usr_seller",
                             BUYER.id, plan.amount, "usd", self.clock.timestamp() - 60)
            self.service.record_win(win)
            events += [StripeEvent(win.id, body, prelude) for body, prelude
                       in self._play(win, plan)]
        return events

    def _play(self, win: AuctionWin, plan: CheckoutPlan) -> list[tuple[dict[str, Any], bool]]:
        fake = self.stripe
        started = self.service.start_checkout(BUYER.id, win.id)
        checkout_id = str(started.payment_session.checkout_session_id)
        sent: list[tuple[dict[str, Any], bool]] = []
        if plan.ending == "retried_paid":
            declined = fake.decline(checkout_id, "generic_decline")
            answer = self.deliver(StripeEvent(win.id, declined, prelude=True))
            assert answer.outcome == "processed", answer
            retried = self.service.retry(BUYER.id, started.payment_session.id)
            sent += [(declined, True), (fake.expire_by_api(checkout_id), False)]
            checkout_id = str(retried.payment_session.checkout_session_id)
        sent += [(fake.decline(checkout_id, code), False) for code in plan.declines]
        return sent + [(body, False) for body in self._end(checkout_id, plan)]

    def _end(self, checkout_id: str, plan: CheckoutPlan) -> list[dict[str, Any]]:
        fake = self.stripe
        if plan.ending in ("paid", "retried_paid"):
            paid = fake.pay(checkout_id, plan.card)
            intent = str(fake.sessions[checkout_id].payment_intent_id)
            return paid + [fake.refund(intent, amount) for amount in plan.refunded_amounts()]
        if plan.ending == "expired":  # by Stripe, at its expires_at: the window's end
            self.clock.advance(max(0.0, fake.sessions[checkout_id].expires_at
                                   - self.clock.now()))
            return [fake.expire(checkout_id)]
        if plan.ending in ("delayed_paid", "delayed_failed"):
            return [fake.pay_later(checkout_id, plan.card),
                    *fake.settle(checkout_id, plan.ending == "delayed_paid")]
        return []  # left_open: the buyer walked away; the window is still open

    # -- what the service believes ------------------------------------------------------
    def end_state(self) -> EndState:
        wins = {win.id: self._win_outcome(win.id) for win in self.repo.list_wins()}
        sent = tuple(sorted((m.to, m.subject, len(m.attachments)) for m in self.mailer.sent))
        alerts = tuple(sorted(a.kind for a in self.repo.list_alerts()
                              if a.kind != "handler_failure"))
        return EndState(wins, sent, alerts)

    def _win_outcome(self, win_id: str) -> WinOutcome:
        repo = self.repo
        sessions = repo.sessions_for_win(win_id)
        attempt = {s.id: s.attempt for s in sessions}
        txns = {t.id: t for t in repo.transactions_for_win(win_id)}
        order = repo.order_for_win(win_id)
        paid_with = txns[order.transaction_id] if order and order.transaction_id else None
        return WinOutcome(
            order=None if order is None else (
                order.status, paid_with.payment_intent_id if paid_with else None,
                order.receipt_path is not None),
            transactions=tuple(sorted(
                (t.payment_intent_id, attempt[t.payment_session_id], t.amount, t.fee,
                 t.net, t.currency, t.status, t.amount_refunded, t.review_status,
                 t.review_flags, t.card_last4, t.charge_id) for t in txns.values())),
            sessions=tuple(sorted(
                (s.attempt, s.status, s.checkout_session_id, s.payment_intent_id,
                 s.failure_code, s.failure_reason) for s in sessions)),
            receipt_mails=tuple(sorted(
                m.status for m in repo.list_mail()
                if order is not None and m.receipt_order_id == order.id)),
            reminders=tuple(sorted(
                job.ref for job in repo.pending_jobs(SEND_REMINDER)
                if job.ref.startswith(f"{win_id}:"))),
        )


@contextmanager
def marketplace() -> Iterator[Marketplace]:
    """A service with its own database in a temporary folder, closed afterwards."""
    with tempfile.TemporaryDirectory(prefix="interleavings-") as workdir:
        clock = ManualClock(START)
        config = service_config(Path(workdir), UNREACHABLE_STRIPE,
                                stripe_webhook_secret=WEBHOOK_SECRET)
        repo = Repository(config.db_path)
        with repo.transaction():
            repo.add_user(BUYER)
        fake, mailer = DelayedPaymentsStripe(clock), FakeMailer()
        service = FlakyPaymentService(repo, fake, clock, config, mailer, DictReceipts(),
                                      ids=IdGenerator(7), render_receipt=stub_render)
        # The real gateway only verifies signatures here; Stripe's API is the fake.
        app = create_app(config, clock=clock, gateway=StripeGateway(config, clock),
                         service=service)
        app.testing = True
        runtime: ServiceRuntime = app.extensions[EXTENSION]
        try:
            yield Marketplace(app, app.test_client(), service, fake, mailer, repo, clock)
        finally:
            runtime.repo.close()
            repo.close()
