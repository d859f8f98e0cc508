"""The emails the service sends, as plain text. Queued in the mail outbox in the same
transaction as the change they announce and sent after the commit, so a mail server
that is down never loses or undoes a payment."""

from __future__ import annotations

from dataclasses import dataclass

from simulator.service.domain.auction import AuctionWin
from simulator.service.domain.money import format_money
from simulator.service.domain.transaction import Transaction
from simulator.service.domain.user import User


@dataclass(frozen=True)
class Mail:
    """``dedupe_key`` makes queuing the same notice twice a no-op; ``receipt_order_id``
    attaches that order's receipt PDF when the mail is sent."""

    dedupe_key: str
    to: str
    subject: str
    text: str
    receipt_order_id: str | None = None


@dataclass(frozen=True)
class QueuedMail:
    """A mail in the outbox, as stored: its delivery so far."""

    id: int
    to: str
    subject: str
    text: str
    receipt_order_id: str | None
    status: str  # pending (queued, or waiting to be tried again), sent, failed (for good)
    attempts: int
    last_error: str | None = None
    created_at: int | None = None
    sent_at: int | None = None

    @property
    def delivery(self) -> str:
        """What an admin reads: queued, retrying (a failed try, another coming), sent or
        failed."""
        if self.status == "pending":
            return "retrying" if self.attempts else "queued"
        return self.status


def receipt_mail(buyer: User, win: AuctionWin, txn: Transaction, order_id: str,
                 merchant: str) -> Mail:
    card = f"{(txn.card_brand or 'card').title()} ending {txn.card_last4 or '????'}"
    text = (
        f"Hello {buyer.name},\n\n"
        f"Thank you for your payment of {format_money(txn.amount, txn.currency)} for"
        f" {win.description}.\nPaid with: {card}\nOrder: {order_id}\n\n"
        f"Your receipt is attached.\n\n{merchant}\n"
    )
    return Mail(f"receipt:{order_id}", buyer.email, f"Your receipt for lot {win.lot}",
                text, receipt_order_id=order_id)


def reminder_mail(buyer: User, win: AuctionWin, checkout_url: str, seconds_left: int,
                  number: int, merchant: str) -> Mail:
    hours, minutes = divmod(seconds_left // 60, 60)
    text = (
        f"Hello {buyer.name},\n\n"
        f"Your payment of {win.amount_display} for {win.description} has not gone"
        f" through yet. You have {hours} h {minutes:02d} min left to pay:\n\n"
        f"{checkout_url}\n\n{merchant}\n"
    )
    return Mail(f"reminder:{win.id}:{number}:{checkout_url}", buyer.email,
                f"Reminder: complete your payment for lot {win.lot}", text)


def window_closed_mail(buyer: User, win: AuctionWin, merchant: str) -> Mail:
    text = (
        f"Hello {buyer.name},\n\n"
        f"The 24-hour payment window for {win.description} ({win.amount_display}) has"
        f" closed without a payment, so the order was canceled.\n\n{merchant}\n"
    )
    return Mail(f"window_closed:{win.id}", buyer.email,
                f"Payment window closed for lot {win.lot}", text)



@dataclass(frozen=True)
class TextMessage:
    """An SMS to a buyer's phone, queued beside the mail for the same moments and sent
    by its own job through the SMS provider. ``dedupe_key`` as for ``Mail``."""

    dedupe_key: str
    to: str
    text: str


def receipt_text(phone: str, win: AuctionWin, txn: Transaction, order_id: str,
                 merchant: str) -> TextMessage:
    return TextMessage(
        f"receipt:{order_id}", phone,
        f"{merchant}: payment of {format_money(txn.amount, txn.currency)} for lot {win.lot}"
        f" received. Order {order_id}; your receipt is in your email.")


def reminder_text(phone: str, win: AuctionWin, checkout_url: str, seconds_left: int,
                  number: int, merchant: str) -> TextMessage:
    hours, minutes = divmod(seconds_left // 60, 60)
    return TextMessage(
        f"reminder:{win.id}:{number}:{checkout_url}", phone,
        f"{merchant}: lot {win.lot} ({win.amount_display}) is not paid yet;"
        f" {hours} h {minutes:02d} min left: {checkout_url}")
