"""Story 12.1: the winner of an auction pays through Stripe Checkout within 24 hours.

``PaymentService`` is the one place payment rules meet the outside world. Stripe is
the source of truth for money: the service never sees a card (PCI SAQ A), learns about
payments from signed webhooks (https://docs.stripe.com/checkout/fulfillment), and re-reads
Stripe whenever it must decide without one (the buyer's return, a missed webhook, the
window's end).

Never losing or doubling a payment rests on three things:

- Every handler re-reads state inside ``BEGIN IMMEDIATE`` and exits early when its work
  is done, so duplicate, concurrent and reordered deliveries converge
  (https://docs.stripe.com/webhooks#handle-duplicate-events,
  https://docs.stripe.com/webhooks#event-ordering).
- UNIQUE constraints hold the invariants even against a bug: one transaction per
  PaymentIntent, one order per win, one live payment session per win.
- Everything a change causes (audit entry, queued mail, jobs) is written in the change's
  own transaction; mail and receipts are produced after the commit, by durable jobs.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, Protocol

from simulator.common.clock import Clock
from simulator.common.ids import IdGenerator, default_ids
from simulator.service.adapters.errors import MailNotSent, PaymentsUnavailable, StripeRejected
from simulator.service.adapters.repositories import Conflict, Job, Repository
from simulator.service.config import ServiceConfig
from simulator.service.domain.alerts import Alert, Kind, Severity
from simulator.service.domain.auction import AuctionWin
from simulator.service.domain.audit import SCHEDULER, STRIPE, SYSTEM, AuditEntry, user_actor
from simulator.service.domain.fraud import FraudCheck, PaymentFacts
from simulator.service.domain.notification import receipt_mail, reminder_mail, window_closed_mail
from simulator.service.domain.order import Order
from simulator.service.domain.payment_session import LIVE, PaymentSession, Status
from simulator.service.domain.retry import (
    Refused,
    RetryPolicy,
    buyer_message,
    refused,
    reminder_schedule,
)
from simulator.service.domain.three_d_secure import ThreeDSecurePolicy
from simulator.service.domain.transaction import Transaction
from simulator.service.domain.user import User
from simulator.service.domain.window import PaymentWindow
from simulator.service.scheduler import (
    CHECK_STRIPE_EXPIRY,
    CLOSE_WINDOW,
    EXPIRE_CHECKOUT,
    ISSUE_RECEIPT,
    SEND_MAIL,
    SEND_REMINDER,
    Scheduler,
)

if TYPE_CHECKING:
    from simulator.service.adapters.stripe_gateway import CheckoutSessionInfo, PaymentDetails

log = logging.getLogger("simulator.service.payments")

# Where Stripe sends the buyer back (the web layer's routes). ``{CHECKOUT_SESSION_ID}``
# is filled in by Stripe (https://docs.stripe.com/payments/checkout/custom-success-page).
SUCCESS_PATH = "/payments/return?session_id={CHECKOUT_SESSION_ID}"
CANCEL_PATH = "/payments/cancel?payment_session_id={payment_session_id}"
RECEIPT_PATH = "/payments/receipts/{order_id}.pdf"

EXPIRY_GRACE_SECONDS = 60  # Stripe's own expiry job runs shortly after expires_at
EXPIRY_RECHECK_SECONDS = 300
PROCESSING_RECHECK_SECONDS = 900
ALERT_QUIET_SECONDS = 300
UNAVAILABLE = "Payments are temporarily unavailable, please try again in a minute"
CHECKOUT_FAILED = "We could not start the payment. Please try again later."
# A reminder meets one of these when the buyer no longer needs reminding.
REMINDER_MOOT = frozenset({"already_paid", "window_closed", "retries_exhausted",
                           "payment_processing"})
HTTP_STATUS = {
    "not_found": 404, "forbidden": 403, "not_winner": 403, "already_paid": 409,
    "window_closed": 410, "retries_exhausted": 409, "payment_processing": 409,
    "payments_unavailable": 503, "checkout_failed": 502,
}
STRIPE_OPEN = ("open", "processing", "failed")  # a Checkout Session Stripe may still take


class PaymentRefused(Exception):
    """A refusal the buyer sees, with its error code and HTTP status."""

    def __init__(self, code: str, http_status: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.http_status = http_status
        self.message = message

    @classmethod
    def of(cls, refusal: Refused) -> PaymentRefused:
        return cls(refusal.code, HTTP_STATUS[refusal.code], refusal.message)


@dataclass(frozen=True)
class CheckoutStarted:
    payment_session: PaymentSession
    created: bool


@dataclass(frozen=True)
class PaymentStatusView:
    id: str
    status: str
    amount: int
    currency: str
    amount_display: str
    seconds_left: int
    attempts_used: int
    attempts_left: int
    failure_reason: str | None
    receipt_url: str | None
    checkout_url: str | None
    expires_at: int
    window_ends_at: int
    win_id: str
    lot: int
    title: str
    attempt: int
    order_id: str | None


class Gateway(Protocol):
    """What the service needs of ``StripeGateway``."""

    def create_checkout_session(
        self, *, idempotency_key: str, amount: int, currency: str, description: str,
        customer_email: str | None, success_url: str, cancel_url: str, expires_at: int,
        metadata: Mapping[str, str], request_three_d_secure: bool,
    ) -> CheckoutSessionInfo: ...

    def retrieve_checkout_session(self, session_id: str) -> CheckoutSessionInfo: ...

    def expire_checkout_session(self, session_id: str) -> CheckoutSessionInfo: ...

    def payment_details(self, payment_intent_id: str) -> PaymentDetails: ...


class MailSender(Protocol):
    def send(self, to: str, subject: str, text: str,
             attachments: Sequence[tuple[str, bytes, str]] = ()) -> Any: ...


class Receipts(Protocol):
    """The receipt store: PDFs by order id."""

    def save(self, order_id: str, pdf: bytes) -> str: ...

    def load(self, order_id: str) -> bytes | None: ...


ReceiptRenderer = Callable[[AuctionWin, Transaction, str, User, str], bytes]


def render_pdf_receipt(win: AuctionWin, txn: Transaction, order_id: str, buyer: User,
                       merchant_name: str) -> bytes:
    """The real PDF (fpdf2, imported only when a receipt is made)."""
    from simulator.service.adapters.receipts import receipt_for, render_receipt

    return render_receipt(receipt_for(win, txn, order_id, buyer, merchant_name))


def _object_id(value: Any) -> str | None:
    """An expandable field of a Stripe object: an id, an expanded object, or null."""
    if isinstance(value, Mapping):
        return str(value["id"])
    return value if isinstance(value, str) else None


class PaymentService:
    def __init__(self, repo: Repository, gateway: Gateway, clock: Clock,
                 config: ServiceConfig, mailer: MailSender | None, receipts: Receipts, *,
                 ids: IdGenerator | None = None, render_receipt: ReceiptRenderer | None = None,
                 scheduler: Scheduler | None = None) -> None:
        self.repo = repo
        self.gateway = gateway
        self.clock = clock
        self.config = config
        self.mailer = mailer
        self.receipts = receipts
        self.ids = ids or default_ids
        self.render_receipt = render_receipt or render_pdf_receipt
        self.policy = RetryPolicy(config.max_retries, config.payment_window_hours)
        self.three_d_secure = ThreeDSecurePolicy(dict(config.three_d_secure_thresholds))
        self.fraud = FraudCheck(self.three_d_secure)
        self.scheduler = scheduler or Scheduler(repo, clock)
        self._register_jobs()
        self._event_handlers: dict[str, Callable[[Mapping[str, Any]], None]] = {
            "checkout.session.completed": self._on_checkout_completed,
            "checkout.session.async_payment_succeeded": self._on_async_payment_succeeded,
            "checkout.session.async_payment_failed": self._on_async_payment_failed,
            "checkout.session.expired": self._on_checkout_expired,
            "payment_intent.succeeded": self._on_payment_intent_succeeded,
            "payment_intent.payment_failed": self._on_payment_intent_failed,
            "charge.refunded": self._on_charge_refunded,
        }

    def _register_jobs(self) -> None:
        for kind, handler in {
            CLOSE_WINDOW: self._job_close_window,
            CHECK_STRIPE_EXPIRY: self._job_check_stripe_expiry,
            SEND_REMINDER: self._job_send_reminder,
            SEND_MAIL: self._job_send_mail,
            ISSUE_RECEIPT: self._job_issue_receipt,
            EXPIRE_CHECKOUT: self._job_expire_checkout,
        }.items():
            self.scheduler.register(kind, handler)

    # == the buyer's side ==================================================================
    def record_win(self, win: AuctionWin) -> None:
        """An auction ended: the win and its window's closing job, in one transaction."""
        with self.repo.transaction():
            self.repo.add_win(win)
            self._audit(SYSTEM, "win.recorded", "win", win.id, None, asdict(win))
            self.scheduler.schedule(CLOSE_WINDOW, win.id, self._window(win).closes_at)

    def start_checkout(self, buyer_id: str, auction_id: str) -> CheckoutStarted:
        """The buyer's Checkout Session for the win. A usable open one is returned as it
        is (a double click is the same session); otherwise a new attempt, if allowed."""
        win = self.repo.get_win(auction_id)
        if win is None:
            raise PaymentRefused("not_found", 404, f"No such auction: {auction_id}")
        if win.buyer_id != buyer_id:
            raise PaymentRefused("not_winner", 403, "Only the winning bidder can pay for this lot.")
        return self._checkout(win, user_actor(buyer_id))

    def retry(self, buyer_id: str, payment_session_id: str) -> CheckoutStarted:
        session = self.repo.get_payment_session(payment_session_id)
        if session is None:
            raise PaymentRefused("not_found", 404, f"No such payment: {payment_session_id}")
        if session.buyer_id != buyer_id:
            raise PaymentRefused("not_winner", 403, "Only the winning bidder can pay for this lot.")
        return self._checkout(self._win(session.win_id), user_actor(buyer_id))

    def status(self, viewer_id: str, payment_session_id: str) -> PaymentStatusView:
        return self._view(self._visible_session(viewer_id, payment_session_id))

    def confirm_return(self, checkout_session_id: str,
                       viewer_id: str | None = None) -> PaymentStatusView:
        """Back from Checkout: the redirect proves nothing, so ask Stripe. If Stripe
        cannot be asked now, the webhook will tell."""
        session = self.repo.session_by_checkout_id(checkout_session_id)
        if session is None:
            raise PaymentRefused("not_found", 404, "No payment for this Checkout Session.")
        if viewer_id is not None:
            self._visible_session(viewer_id, session.id)
        try:
            info = self.gateway.retrieve_checkout_session(checkout_session_id)
        except (PaymentsUnavailable, StripeRejected) as error:
            log.warning("return from %s: Stripe not asked (%s)", checkout_session_id, error)
        else:
            self._apply_checkout_state(session, info, STRIPE)
        return self._view(self._session(session.id))

    def resolve_review(self, admin_id: str, transaction_id: str) -> Transaction:
        """An admin looked at a flagged payment and cleared it."""
        admin = self.repo.get_user(admin_id)
        if admin is None or not admin.is_admin:
            raise PaymentRefused("forbidden", 403, "Only an administrator can clear a review.")
        with self.repo.transaction():
            txn = self.repo.get_transaction(transaction_id)
            if txn is None:
                raise PaymentRefused("not_found", 404, f"No such transaction: {transaction_id}")
            cleared = Transaction(**{**asdict(txn), "review_status": "cleared",
                                     "review_flags": txn.review_flags})
            self.repo.save_transaction(cleared)
            self._audit(user_actor(admin_id), "transaction.review_cleared", "transaction",
                        txn.id, txn.snapshot(), cleared.snapshot())
        return cleared

    def run_due_jobs(self, now: float | None = None) -> int:
        return self.scheduler.run_due(now)

    # == starting a checkout ===============================================================
    def _checkout(self, win: AuctionWin, actor: str) -> CheckoutStarted:
        sessions = self.repo.sessions_for_win(win.id)
        usable = next((s for s in sessions if s.is_usable(self.clock.now())), None)
        if usable is not None:
            return CheckoutStarted(usable, created=False)
        self._close_previous_at_stripe(win, sessions, actor)
        session, created = self._claim_attempt(win, actor)
        if not session.reached_stripe:
            session = self._create_at_stripe(win, session, actor)
        return CheckoutStarted(session, created)

    def _close_previous_at_stripe(self, win: AuctionWin, sessions: Sequence[PaymentSession],
                                  actor: str) -> None:
        """Before a new attempt, make sure the last one can no longer be paid: a declined
        card leaves its Checkout Session open (the buyer may try another card there), and
        two open sessions for one lot could take the money twice."""
        previous = [s for s in sessions if s.reached_stripe]
        if not previous or previous[-1].status not in STRIPE_OPEN:
            return
        if not self._window(win).is_open(self.clock.now()):
            return
        info = self._stripe(lambda: self.gateway.expire_checkout_session(
            str(previous[-1].checkout_session_id)))
        self._apply_checkout_state(previous[-1], info, actor)

    def _claim_attempt(self, win: AuctionWin, actor: str) -> tuple[PaymentSession, bool]:
        """Decide and insert the attempt's row, with its idempotency key, before Stripe is
        called. Serialized per win by ``BEGIN IMMEDIATE`` and the live-session index."""
        now = self.clock.now()
        with self.repo.transaction():
            sessions = self.repo.sessions_for_win(win.id)
            live = next((s for s in sessions if s.status in LIVE), None)
            if live is not None and live.is_usable(now):
                return live, False
            decision = self.policy.decide(win, sessions, now)
            if isinstance(decision, Refused):
                raise PaymentRefused.of(decision)
            if live is not None and not live.reached_stripe:
                return live, False  # a create that failed half-way: resume it, same key
            if live is not None:
                self._mark_expired_in_tx(live, "session_expired", actor)
            session = self._new_session(win, decision.attempt, now)
            self.repo.add_payment_session(session)
            self._audit(actor, "payment_session.created", "payment_session", session.id,
                        None, session.snapshot())
            return session, True

    def _new_session(self, win: AuctionWin, attempt: int, now: float) -> PaymentSession:
        window = self._window(win)
        return PaymentSession(
            id=self.ids.new("ps"), win_id=win.id, buyer_id=win.buyer_id, attempt=attempt,
            status="open", idempotency_key=f"ps-{secrets.token_urlsafe(24)}",
            expires_at=window.checkout_expires_at(now), window_ends_at=window.closes_at,
            created_at=int(now), updated_at=int(now),
        )

    def _create_at_stripe(self, win: AuctionWin, session: PaymentSession,
                          actor: str) -> PaymentSession:
        """The Stripe call, outside any database transaction. Every parameter comes
        from the stored row, so a retry with the same key is the same request
        (Stripe refuses a key reused with other parameters)."""
        buyer = self.repo.get_user(win.buyer_id)
        try:
            info = self.gateway.create_checkout_session(
                idempotency_key=session.idempotency_key, amount=win.amount,
                currency=win.currency, description=win.description,
                customer_email=buyer.email if buyer else None,
                success_url=self.config.public_url + SUCCESS_PATH,
                cancel_url=self.config.public_url + CANCEL_PATH.format(
                    payment_session_id=session.id),
                expires_at=session.expires_at, metadata=self._metadata(session),
                request_three_d_secure=self.three_d_secure.requests_3ds(win.amount,
                                                                        win.currency))
        except PaymentsUnavailable as error:
            raise self._unavailable(error) from error
        except StripeRejected as error:
            self._cancel_unsent(session, error, actor)
            raise PaymentRefused("checkout_failed", 502, CHECKOUT_FAILED) from error
        return self._attach_checkout(session, info, actor)

    @staticmethod
    def _metadata(session: PaymentSession) -> dict[str, str]:
        """Copied onto the PaymentIntent too, so ``payment_intent.*`` events are ours to
        match (https://docs.stripe.com/metadata)."""
        return {"payment_session_id": session.id, "win_id": session.win_id,
                "buyer_id": session.buyer_id, "attempt": str(session.attempt)}

    def _attach_checkout(self, session: PaymentSession, info: CheckoutSessionInfo,
                         actor: str) -> PaymentSession:
        with self.repo.transaction():
            current = self._session(session.id)
            if current.reached_stripe:
                return current  # a concurrent request with the same key attached it
            updated = current.updated(self.clock.timestamp(), checkout_session_id=info.id,
                                      checkout_url=info.url, expires_at=info.expires_at)
            self.repo.save_payment_session(updated)
            self._audit(actor, "payment_session.checkout_created", "payment_session",
                        updated.id, current.snapshot(), updated.snapshot())
            self.scheduler.schedule(CHECK_STRIPE_EXPIRY, updated.id,
                                    info.expires_at + EXPIRY_GRACE_SECONDS)
        if updated.status != "open":  # the window closed while Stripe was being called
            with self.repo.transaction():
                job = self.scheduler.schedule(EXPIRE_CHECKOUT, updated.id, self.clock.now())
            self.scheduler.run_now([job])
            raise PaymentRefused.of(refused("window_closed"))
        return updated

    def _cancel_unsent(self, session: PaymentSession, error: StripeRejected,
                       actor: str) -> None:
        """Stripe refused the create: that key would be refused again, so the attempt is
        canceled (it never reached the buyer and does not count against the retries)."""
        log.error("Stripe refused the Checkout Session for %s: %s", session.id, error)
        with self.repo.transaction():
            current = self._session(session.id)
            if current.reached_stripe or not current.can_become("canceled"):
                return
            canceled = current.transition("canceled", self.clock.timestamp(),
                                          failure_code="stripe_rejected",
                                          failure_reason=CHECKOUT_FAILED)
            self.repo.save_payment_session(canceled)
            self._audit(actor, "payment_session.canceled", "payment_session", canceled.id,
                        current.snapshot(), canceled.snapshot())

    def _unavailable(self, error: PaymentsUnavailable) -> PaymentRefused:
        if error.reason == "circuit_open":
            self._alert("circuit_open", "critical",
                        "Stripe is failing: the circuit breaker is open and payments are"
                        " refused with 503.", subject_id="stripe")
        return PaymentRefused("payments_unavailable", 503, UNAVAILABLE)

    def _stripe(self, call: Callable[[], CheckoutSessionInfo]) -> CheckoutSessionInfo:
        """A Stripe read on the buyer's path: unavailability becomes the buyer's 503."""
        try:
            return call()
        except PaymentsUnavailable as error:
            raise self._unavailable(error) from error

    # == webhooks ==========================================================================
    def handle_event(self, event: Mapping[str, Any]) -> None:
        """Dispatch a verified Stripe event. Raises when the work could not be done, so
        the webhook answers 5xx and Stripe delivers again."""
        handler = self._event_handlers.get(str(event.get("type")))
        if handler is None:
            return
        try:
            handler(event["data"]["object"])
        except Exception as error:
            self._alert("handler_failure", "warning",
                        f"{event.get('type')} {event.get('id')} failed: {error}",
                        subject_id=str(event.get("id")))
            raise

    def _on_checkout_completed(self, checkout: Mapping[str, Any]) -> None:
        session = self._session_of(checkout)
        if session is None:
            return
        payment_intent = _object_id(checkout.get("payment_intent"))
        if checkout.get("payment_status") in ("paid", "no_payment_required"):
            self._record_payment(session, payment_intent)
        else:  # a delayed payment method: async_payment_succeeded/failed follows
            self._mark_processing(session, payment_intent)

    def _on_async_payment_succeeded(self, checkout: Mapping[str, Any]) -> None:
        session = self._session_of(checkout)
        if session is not None:
            self._record_payment(session, _object_id(checkout.get("payment_intent")))

    def _on_async_payment_failed(self, checkout: Mapping[str, Any]) -> None:
        session = self._session_of(checkout)
        payment_intent = _object_id(checkout.get("payment_intent"))
        if session is None or payment_intent is None:
            return
        details = self.gateway.payment_details(payment_intent)
        self._record_failure(session, payment_intent, details.failure_code,
                             details.decline_code)

    def _on_checkout_expired(self, checkout: Mapping[str, Any]) -> None:
        session = self._session_of(checkout)
        if session is not None:
            self._mark_expired(session, self._expiry_code(session), STRIPE)

    def _on_payment_intent_succeeded(self, intent: Mapping[str, Any]) -> None:
        """Usually after ``checkout.session.completed`` (then one read and out), but
        Stripe does not promise the order; either one records the payment."""
        session = self._session_of(intent)
        if session is not None:
            self._record_payment(session, str(intent["id"]))

    def _on_payment_intent_failed(self, intent: Mapping[str, Any]) -> None:
        session = self._session_of(intent)
        if session is None:
            return
        error = intent.get("last_payment_error") or {}
        self._record_failure(session, str(intent["id"]), error.get("code"),
                             error.get("decline_code"))

    def _on_charge_refunded(self, charge: Mapping[str, Any]) -> None:
        """A refund made in Stripe's dashboard. If it overtook the payment's own events,
        the payment is recorded first (re-read from Stripe)."""
        payment_intent = _object_id(charge.get("payment_intent"))
        if payment_intent is None:
            return
        txn = self.repo.transaction_by_payment_intent(payment_intent)
        if txn is None:
            session = self._session_of(charge)
            if session is None:
                return
            self._record_payment(session, payment_intent)
            txn = self.repo.transaction_by_payment_intent(payment_intent)
            if txn is None:
                raise RuntimeError(f"refund of {payment_intent} before its payment succeeded")
        self._record_refund(txn, int(charge.get("amount_refunded") or 0))

    def _session_of(self, stripe_object: Mapping[str, Any]) -> PaymentSession | None:
        """Ours, by the Checkout Session's or PaymentIntent's id, else by the metadata we
        set on both. Anything else on the account is not ours: ignored."""
        found: PaymentSession | None = None
        kind, object_id = stripe_object.get("object"), str(stripe_object.get("id"))
        if kind == "checkout.session":
            found = self.repo.session_by_checkout_id(object_id)
        elif kind == "payment_intent":
            found = self.repo.session_by_payment_intent(object_id)
        elif kind == "charge" and (intent := _object_id(stripe_object.get("payment_intent"))):
            found = self.repo.session_by_payment_intent(intent)
        metadata = stripe_object.get("metadata") or {}
        if found is None and metadata.get("payment_session_id"):
            found = self.repo.get_payment_session(str(metadata["payment_session_id"]))
        if found is None:
            log.info("Stripe %s %s is not one of ours; ignored", kind, object_id)
        return found

    # == recording outcomes ================================================================
    def _record_payment(self, session: PaymentSession, payment_intent_id: str | None) -> None:
        """Exactly one Transaction and one Order per paid win, whatever arrives twice."""
        if payment_intent_id is None:
            raise ValueError(f"{session.id}: paid without a PaymentIntent")
        if self.repo.transaction_by_payment_intent(payment_intent_id) is not None:
            return  # the common duplicate: one indexed read
        details = self.gateway.payment_details(payment_intent_id)
        if details.status == "processing":
            self._mark_processing(session, payment_intent_id)
            return
        if details.status != "succeeded":
            raise RuntimeError(f"{payment_intent_id} is {details.status}, not succeeded")
        self.scheduler.run_now(self._commit_payment(session.id, details))

    def _commit_payment(self, session_id: str, details: PaymentDetails) -> list[int | None]:
        """One transaction: the Transaction, the session's and order's new states, their
        audit entries, the receipt mail and the jobs that follow. Returns those jobs."""
        with self.repo.transaction():
            if self.repo.transaction_by_payment_intent(details.payment_intent_id):
                return []  # a concurrent delivery recorded it first
            session = self._session(session_id)
            win = self._win(session.win_id)
            txn = self._new_transaction(session, win, details)
            self.repo.add_transaction(txn)
            self._audit(STRIPE, "transaction.recorded", "transaction", txn.id, None,
                        txn.snapshot())
            self._mark_succeeded(session, details.payment_intent_id)
            order = self._order_paid(win, txn)
            self.repo.cancel_jobs(SEND_REMINDER, f"{win.id}:")
            return self._after_payment(win, session, txn, order)

    def _new_transaction(self, session: PaymentSession, win: AuctionWin,
                         details: PaymentDetails) -> Transaction:
        fee = details.fee or 0
        txn = Transaction(
            id=self.ids.new("txn"), payment_session_id=session.id, win_id=win.id,
            amount=details.amount, fee=fee,
            net=details.net if details.net is not None else details.amount - fee,
            currency=details.currency, status="succeeded", card_brand=details.card_brand,
            card_last4=details.card_last4, card_country=details.card_country,
            three_d_secure_result=details.three_d_secure_result,
            risk_level=details.risk_level, risk_score=details.risk_score,
            charge_id=details.charge_id, payment_intent_id=details.payment_intent_id,
            created_at=self.clock.timestamp(),
        )
        return self._flag_for_review(txn, win)

    def _flag_for_review(self, txn: Transaction, win: AuctionWin) -> Transaction:
        buyer = self.repo.get_user(win.buyer_id)
        failed = sum(1 for s in self.repo.sessions_for_win(win.id) if s.status == "failed")
        flags = self.fraud.flags(PaymentFacts(
            amount=txn.amount, currency=txn.currency,
            three_d_secure_result=txn.three_d_secure_result, risk_level=txn.risk_level,
            failed_attempts=failed, card_country=txn.card_country,
            buyer_country=buyer.country if buyer else None))
        codes = tuple(flag.code for flag in flags)
        if txn.amount != win.amount or txn.currency != win.currency:
            codes += ("amount_mismatch",)
        if codes:
            reasons = "; ".join(flag.message for flag in flags) or "amount differs from the win"
            self._alert("review_needed", "warning",
                        f"Payment {txn.id} for lot {win.lot} needs review: {reasons}",
                        subject_id=txn.id, quiet=0)
        return txn.flagged(codes)

    def _mark_succeeded(self, session: PaymentSession, payment_intent_id: str) -> None:
        if session.status == "succeeded":
            return
        if session.status in ("expired", "canceled"):
            self._alert("late_payment", "warning",
                        f"Stripe took a payment for {session.id} after it was {session.status}"
                        " here; it is recorded.", subject_id=session.id, quiet=0)
        paid = session.transition("succeeded", self.clock.timestamp(),
                                  payment_intent_id=payment_intent_id, failure_code=None,
                                  failure_reason=None)
        self.repo.save_payment_session(paid)
        self._audit(STRIPE, "payment_session.succeeded", "payment_session", paid.id,
                    session.snapshot(), paid.snapshot())

    def _order_paid(self, win: AuctionWin, txn: Transaction) -> Order:
        """Create the order, or turn a canceled one paid; a second payment for a paid
        win is recorded, flagged and alerted (someone must refund it), never ordered."""
        now = self.clock.timestamp()
        order = self.repo.order_for_win(win.id)
        if order is None:
            created = Order(id=self.ids.new("ord"), win_id=win.id, buyer_id=win.buyer_id,
                            status="paid", created_at=now, updated_at=now,
                            transaction_id=txn.id)
            self.repo.add_order(created)
            self._audit(STRIPE, "order.created", "order", created.id, None, created.snapshot())
            return created
        if order.status in ("canceled", "created"):
            paid = order.transition("paid", now, transaction_id=txn.id)
            self.repo.save_order(paid)
            self._audit(STRIPE, "order.paid", "order", paid.id, order.snapshot(),
                        paid.snapshot())
            return paid
        self._flag_duplicate(txn, order)
        return order

    def _flag_duplicate(self, txn: Transaction, order: Order) -> None:
        flagged = txn.flagged(("duplicate_payment",))
        self.repo.save_transaction(flagged)
        self._audit(STRIPE, "transaction.flagged", "transaction", txn.id, txn.snapshot(),
                    flagged.snapshot())
        self._alert("duplicate_payment", "critical",
                    f"Win {order.win_id} was paid twice: {txn.payment_intent_id} came after"
                    f" order {order.id} was paid. Refund it in Stripe.", subject_id=txn.id,
                    quiet=0)

    def _after_payment(self, win: AuctionWin, session: PaymentSession, txn: Transaction,
                       order: Order) -> list[int | None]:
        """Jobs for after the commit: the receipt, its mail, and closing any other
        Checkout Session of the win that Stripe might still take money on."""
        now = self.clock.now()
        jobs = [self.scheduler.schedule(ISSUE_RECEIPT, order.id, now)]
        buyer = self.repo.get_user(win.buyer_id)
        if buyer is not None and order.transaction_id == txn.id:
            mail = receipt_mail(buyer, win, txn, order.id, self.config.merchant_name)
            mail_id = self.repo.queue_mail(mail, int(now))
            if mail_id is not None:
                jobs.append(self.scheduler.schedule(SEND_MAIL, str(mail_id), now))
        for other in self.repo.sessions_for_win(win.id):
            if other.id != session.id and other.reached_stripe and other.status in STRIPE_OPEN:
                jobs.append(self.scheduler.schedule(EXPIRE_CHECKOUT, other.id, now))
        return jobs

    def _record_failure(self, session: PaymentSession, payment_intent_id: str | None,
                        failure_code: str | None, decline_code: str | None) -> None:
        """A declined or unauthenticated payment: the reason in the buyer's words, and
        reminders scheduled (replacing those of an earlier failure)."""
        code = decline_code or failure_code or "card_declined"
        with self.repo.transaction():
            current = self._session(session.id)
            if current.status not in STRIPE_OPEN or (
                    current.status == "failed" and current.failure_code == code):
                return
            changes = {"payment_intent_id": payment_intent_id or current.payment_intent_id,
                       "failure_code": code,
                       "failure_reason": buyer_message(failure_code, decline_code)}
            now = self.clock.timestamp()
            failed = (current.updated(now, **changes) if current.status == "failed"
                      else current.transition("failed", now, **changes))
            self.repo.save_payment_session(failed)
            self._audit(STRIPE, "payment_session.failed", "payment_session", failed.id,
                        current.snapshot(), failed.snapshot())
            if current.status != "failed":
                self._schedule_reminders(failed, now)

    def _schedule_reminders(self, session: PaymentSession, failed_at: int) -> None:
        self.repo.cancel_jobs(SEND_REMINDER, f"{session.win_id}:")
        times = reminder_schedule(failed_at, session.window_ends_at, paid=False,
                                  jitter_seconds=self.config.reminder_jitter_seconds,
                                  rng_seed=session.id, hours=self.config.reminder_hours)
        for number, at in enumerate(times, 1):
            self.scheduler.schedule(SEND_REMINDER, f"{session.win_id}:{session.id}:{number}", at)

    def _mark_processing(self, session: PaymentSession, payment_intent_id: str | None) -> None:
        with self.repo.transaction():
            current = self._session(session.id)
            if current.status not in ("open", "failed"):
                return
            processing = current.transition("processing", self.clock.timestamp(),
                                            payment_intent_id=payment_intent_id)
            try:
                self.repo.save_payment_session(processing)
            except Conflict:
                log.warning("%s is processing while another attempt is open", session.id)
                return
            self._audit(STRIPE, "payment_session.processing", "payment_session",
                        processing.id, current.snapshot(), processing.snapshot())

    def _mark_expired(self, session: PaymentSession, code: str, actor: str) -> None:
        with self.repo.transaction():
            self._mark_expired_in_tx(self._session(session.id), code, actor)

    def _mark_expired_in_tx(self, current: PaymentSession, code: str, actor: str) -> None:
        """Only a live session expires; a failed one keeps its reason."""
        if current.status not in LIVE:
            return
        expired = current.transition("expired", self.clock.timestamp(), failure_code=code,
                                     failure_reason=buyer_message(code))
        self.repo.save_payment_session(expired)
        self._audit(actor, "payment_session.expired", "payment_session", expired.id,
                    current.snapshot(), expired.snapshot())

    def _expiry_code(self, session: PaymentSession) -> str:
        late = self.clock.now() >= session.window_ends_at
        return "window_closed" if late else "session_expired"

    def _record_refund(self, txn: Transaction, amount_refunded: int) -> None:
        with self.repo.transaction():
            current = self.repo.get_transaction(txn.id) or txn
            if amount_refunded <= current.amount_refunded:
                return
            refunded = current.refunded(amount_refunded)
            self.repo.save_transaction(refunded)
            self._audit(STRIPE, "transaction.refunded", "transaction", txn.id,
                        current.snapshot(), refunded.snapshot())
            order = self.repo.order_for_win(txn.win_id)
            if refunded.status == "refunded" and order is not None \
                    and order.transaction_id == txn.id and order.status == "paid":
                closed = order.transition("refunded", self.clock.timestamp())
                self.repo.save_order(closed)
                self._audit(STRIPE, "order.refunded", "order", order.id, order.snapshot(),
                            closed.snapshot())

    def _apply_checkout_state(self, session: PaymentSession, info: CheckoutSessionInfo,
                              actor: str) -> None:
        """Bring our session in line with what Stripe says about its Checkout Session."""
        if info.status == "complete":
            if info.payment_status in ("paid", "no_payment_required"):
                self._record_payment(session, info.payment_intent_id)
            else:
                self._mark_processing(session, info.payment_intent_id)
        elif info.status == "expired":
            self._mark_expired(session, self._expiry_code(session), actor)

    # == jobs ==============================================================================
    def _job_close_window(self, job: Job) -> float | None:
        """The window's end: expire what Stripe still has open (learning of any payment
        made in time whose webhook is late), then cancel the order if nothing was paid."""
        win = self.repo.get_win(job.ref)
        if win is None or self.repo.order_for_win(win.id) is not None:
            return None
        for session in self.repo.sessions_for_win(win.id):
            if session.reached_stripe and session.status in STRIPE_OPEN:
                info = self.gateway.expire_checkout_session(str(session.checkout_session_id))
                self._apply_checkout_state(session, info, SCHEDULER)
        sessions = self.repo.sessions_for_win(win.id)
        if any(s.status == "succeeded" for s in sessions):
            return None
        if any(s.status == "processing" for s in sessions):
            return self.clock.now() + PROCESSING_RECHECK_SECONDS  # the money is in flight
        self.scheduler.run_now(self._cancel_order(win))
        return None

    def _cancel_order(self, win: AuctionWin) -> list[int | None]:
        """The unpaid end of a win: live sessions closed, a canceled Order row, the
        buyer told."""
        now = self.clock.timestamp()
        with self.repo.transaction():
            if self.repo.order_for_win(win.id) is not None:
                return []
            for session in self.repo.sessions_for_win(win.id):
                self._close_at_window_end(session)
            order = Order(id=self.ids.new("ord"), win_id=win.id, buyer_id=win.buyer_id,
                          status="canceled", created_at=now, updated_at=now)
            self.repo.add_order(order)
            self._audit(SCHEDULER, "order.canceled", "order", order.id, None, order.snapshot())
            self.repo.cancel_jobs(SEND_REMINDER, f"{win.id}:")
            buyer = self.repo.get_user(win.buyer_id)
            if buyer is None:
                return []
            mail_id = self.repo.queue_mail(
                window_closed_mail(buyer, win, self.config.merchant_name), now)
            return [self.scheduler.schedule(SEND_MAIL, str(mail_id), now)] if mail_id else []

    def _close_at_window_end(self, session: PaymentSession) -> None:
        if session.status not in LIVE:
            return
        status: Status = "expired" if session.reached_stripe else "canceled"
        closed = session.transition(status, self.clock.timestamp(),
                                    failure_code="window_closed",
                                    failure_reason=buyer_message("window_closed"))
        self.repo.save_payment_session(closed)
        self._audit(SCHEDULER, f"payment_session.{status}", "payment_session", closed.id,
                    session.snapshot(), closed.snapshot())

    def _job_check_stripe_expiry(self, job: Job) -> float | None:
        """Shortly after ``expires_at``: if the ``checkout.session.expired`` (or
        completed) webhook never came, Stripe's own answer settles it."""
        session = self.repo.get_payment_session(job.ref)
        if session is None or not session.reached_stripe or session.status not in STRIPE_OPEN:
            return None
        info = self.gateway.retrieve_checkout_session(str(session.checkout_session_id))
        self._apply_checkout_state(session, info, SCHEDULER)
        if info.status == "open" and self.clock.now() < session.window_ends_at:
            return self.clock.now() + EXPIRY_RECHECK_SECONDS  # Stripe's expiry lags
        return None

    def _job_expire_checkout(self, job: Job) -> float | None:
        """Close a Checkout Session that must take no more money, whatever we think of it
        (it may be ``canceled`` here and still open at Stripe); expiring an expired or
        complete session only reads it back."""
        session = self.repo.get_payment_session(job.ref)
        if session is None or not session.reached_stripe or session.status == "succeeded":
            return None
        info = self.gateway.expire_checkout_session(str(session.checkout_session_id))
        self._apply_checkout_state(session, info, SCHEDULER)
        return None

    def _job_send_reminder(self, job: Job) -> float | None:
        """A fresh payment link by mail, if the buyer still needs one and may still try."""
        win_id, _, number = job.ref.split(":")
        win = self.repo.get_win(win_id)
        if win is None or self.repo.order_for_win(win.id) is not None:
            return None
        try:
            started = self._checkout(win, SCHEDULER)
        except PaymentRefused as refusal:
            if refusal.code in REMINDER_MOOT:
                return None
            raise
        buyer = self.repo.get_user(win.buyer_id)
        url = started.payment_session.checkout_url
        if buyer is None or url is None:
            return None
        seconds_left = self._window(win).seconds_left(self.clock.now())
        mail = reminder_mail(buyer, win, url, seconds_left, int(number),
                             self.config.merchant_name)
        with self.repo.transaction():
            mail_id = self.repo.queue_mail(mail, self.clock.timestamp())
            job_id = self.scheduler.schedule(SEND_MAIL, str(mail_id), self.clock.now()) \
                if mail_id else None
        self.scheduler.run_now([job_id])
        return None

    def _job_send_mail(self, job: Job) -> float | None:
        mail = self.repo.get_mail(int(job.ref))
        if mail is None or mail.status != "pending" or self.mailer is None:
            return None  # without SMTP the mail stays queued, visible to an admin
        attachments = []
        if mail.receipt_order_id is not None:
            pdf = self._ensure_receipt(mail.receipt_order_id)
            if pdf is not None:
                attachments.append((f"receipt-{mail.receipt_order_id}.pdf", pdf,
                                    "application/pdf"))
        try:
            self.mailer.send(mail.to, mail.subject, mail.text, attachments)
        except MailNotSent as error:
            return self._mail_not_sent(mail.id, error)
        with self.repo.transaction():
            self.repo.mark_mail_sent(mail.id, self.clock.timestamp())
        return None

    def _mail_not_sent(self, mail_id: int, error: MailNotSent) -> float | None:
        with self.repo.transaction():
            self.repo.mark_mail_failed(mail_id, str(error), error.permanent)
        if error.permanent:
            self._alert("mail_failed", "warning", f"Mail {mail_id} refused: {error}",
                        subject_id=str(mail_id), quiet=0)
            return None
        raise error  # the scheduler retries with backoff

    def _job_issue_receipt(self, job: Job) -> float | None:
        self._ensure_receipt(job.ref)
        return None

    def _ensure_receipt(self, order_id: str) -> bytes | None:
        """The order's receipt PDF, rendered and stored the first time it is needed."""
        order = self.repo.get_order(order_id)
        if order is None or order.transaction_id is None:
            return None
        if order.receipt_path and (pdf := self.receipts.load(order.id)):
            return pdf
        txn = self.repo.get_transaction(order.transaction_id)
        win, buyer = self._win(order.win_id), self.repo.get_user(order.buyer_id)
        if txn is None or buyer is None:
            return None
        pdf = self.render_receipt(win, txn, order.id, buyer, self.config.merchant_name)
        path = self.receipts.save(order.id, pdf)
        with self.repo.transaction():
            current = self.repo.get_order(order.id) or order
            if current.receipt_path != path:
                attached = current.with_receipt(path, self.clock.timestamp())
                self.repo.save_order(attached)
                self._audit(SYSTEM, "order.receipt_attached", "order", order.id,
                            current.snapshot(), attached.snapshot())
        return pdf

    # == reading ===========================================================================
    def _view(self, session: PaymentSession) -> PaymentStatusView:
        win = self._win(session.win_id)
        sessions = self.repo.sessions_for_win(win.id)
        order = self.repo.order_for_win(win.id)
        now = self.clock.now()
        window = self._window(win)
        paid = order is not None and order.status in ("paid", "refunded")
        closed = paid or not window.is_open(now)
        return PaymentStatusView(
            id=session.id, status=session.status, amount=win.amount, currency=win.currency,
            amount_display=win.amount_display, seconds_left=window.seconds_left(now),
            attempts_used=self.policy.attempts_used(sessions),
            attempts_left=0 if closed else self.policy.attempts_left(sessions),
            failure_reason=session.failure_reason,
            receipt_url=RECEIPT_PATH.format(order_id=order.id)
            if paid and order is not None and order.receipt_path else None,
            checkout_url=session.checkout_url if session.is_usable(now) else None,
            expires_at=session.expires_at, window_ends_at=session.window_ends_at,
            win_id=win.id, lot=win.lot, title=win.title, attempt=session.attempt,
            order_id=order.id if order is not None else None,
        )

    def _visible_session(self, viewer_id: str, payment_session_id: str) -> PaymentSession:
        session = self.repo.get_payment_session(payment_session_id)
        if session is None:
            raise PaymentRefused("not_found", 404, f"No such payment: {payment_session_id}")
        if session.buyer_id != viewer_id:
            viewer = self.repo.get_user(viewer_id)
            if viewer is None or not viewer.is_admin:
                raise PaymentRefused("forbidden", 403, "This payment belongs to another buyer.")
        return session

    def _session(self, session_id: str) -> PaymentSession:
        session = self.repo.get_payment_session(session_id)
        if session is None:
            raise LookupError(f"payment session {session_id} vanished")
        return session

    def _win(self, win_id: str) -> AuctionWin:
        win = self.repo.get_win(win_id)
        if win is None:
            raise LookupError(f"win {win_id} vanished")
        return win

    def _window(self, win: AuctionWin) -> PaymentWindow:
        return PaymentWindow(win.ended_at, self.config.payment_window_hours)

    # == audit and alerts ==================================================================
    def _audit(self, actor: str, action: str, subject_type: str, subject_id: str,
               before: dict[str, Any] | None, after: dict[str, Any] | None) -> None:
        """Called inside the transaction that makes the change it records."""
        self.repo.add_audit(AuditEntry(actor, action, subject_type, subject_id, before, after,
                                       self.clock.timestamp()))

    def _alert(self, kind: Kind, severity: Severity, message: str, *,
               subject_id: str | None = None, quiet: int = ALERT_QUIET_SECONDS) -> None:
        """One alert per kind and subject per ``quiet`` seconds (0: every time)."""
        now = self.clock.timestamp()
        self.repo.add_alert(Alert(kind, severity, message, now, subject_id),
                            unless_since=now - quiet if quiet else None)
