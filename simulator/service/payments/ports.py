"""What the payment service needs of the outside world: Stripe, SMTP, SMS, the receipt store,
the receipt renderer and its storage (``PaymentStore``)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from simulator.service.domain.auction import AuctionWin
from simulator.service.domain.stores import (
    AuditStore,
    InboxStore,
    IncidentStore,
    MailStore,
    PaymentRecordStore,
    SchedulerStore,
    StateStore,
    UserStore,
)
from simulator.service.domain.transaction import Transaction
from simulator.service.domain.user import User

if TYPE_CHECKING:
    from simulator.service.adapters.disputes import DisputeRecords
    from simulator.service.adapters.fraud_signals import FraudSignals
    from simulator.service.adapters.sms_records import TextMessageRecords
    from simulator.service.adapters.stripe_gateway import CheckoutSessionInfo, PaymentDetails


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


class SideRecords(Protocol):
    """The tables read and written by adapters of their own rather than by one of the
    repository's aggregates, on the same store (so they join its transactions)."""

    @property
    def fraud_signals(self) -> FraudSignals:
        """What each checkout and payment was seen with, and every rule's decision."""
        ...

    @property
    def text_messages(self) -> TextMessageRecords:
        """The buyers' phone numbers and the SMS outbox."""
        ...

    @property
    def disputes(self) -> DisputeRecords:
        """Stripe's latest word on each dispute of a payment."""
        ...


class PaymentStore(UserStore, PaymentRecordStore, AuditStore, MailStore, StateStore,
                   IncidentStore, SchedulerStore, InboxStore, SideRecords, Protocol):
    """Everything the payment rules use of the service's storage. The SQLite
    ``Repository`` implements it; the rules never name that class."""


class MailSender(Protocol):
    def send(self, to: str, subject: str, text: str,
             attachments: Sequence[tuple[str, bytes, str]] = ()) -> Any: ...


class SmsSender(Protocol):
    """An SMS provider (``adapters/sms.py``): returns its id for the message, raises
    ``SmsNotSent`` (``permanent`` when sending again cannot help)."""

    def send(self, to: str, text: str) -> str: ...


class Receipts(Protocol):
    """The receipt store: PDFs by order id, written once (``save`` raises
    ``ReceiptExists`` the second time) and checked against their SHA-256 on read
    (``load`` raises ``ReceiptTampered``)."""

    def save(self, order_id: str, pdf: bytes) -> str: ...

    def load(self, order_id: str, sha256: str | None = None) -> bytes | None: ...


ReceiptRenderer = Callable[[AuctionWin, Transaction, str, User, str], bytes]


def render_pdf_receipt(win: AuctionWin, txn: Transaction, order_id: str, buyer: User,
                       merchant_name: str) -> bytes:
    """The real PDF (fpdf2, imported only when a receipt is made)."""
    from simulator.service.adapters.receipts import receipt_for, render_receipt

    return render_receipt(receipt_for(win, txn, order_id, buyer, merchant_name))
