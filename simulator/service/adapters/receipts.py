"""The buyer's receipt: a one-page PDF made with fpdf2, kept on disk by order id.

A receipt names the card by brand and last four digits only. Free text that reaches the
page (a lot title, a buyer's name) is scrubbed of anything shaped like a card number
(13 to 19 digits, spaces or dashes allowed between them), so a PAN typed into the wrong
field never ends up in a stored document (https://docs.stripe.com/security/guide).
"""

from __future__ import annotations

import datetime as _dt
import os
import re
import threading
from dataclasses import dataclass
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from simulator.service.domain.auction import AuctionWin
from simulator.service.domain.money import format_money
from simulator.service.domain.transaction import Transaction
from simulator.service.domain.user import User

CARD_NUMBER_LIKE = re.compile(r"(?<!\d)(?:\d[ -]?){12,18}\d(?!\d)")
REDACTED = "[number removed]"
_ORDER_ID = re.compile(r"^[A-Za-z0-9_-]{1,100}$")
# The PDF core fonts (Helvetica here) cover Latin-1 only: the euro sign, curly quotes,
# dashes, ellipsis, bullet and no-break space are drawn with Latin-1 stand-ins.
_LATIN1_SUBSTITUTES = str.maketrans({
    "\u20ac": "EUR ", "\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"',
    "\u2013": "-", "\u2014": "-", "\u2026": "...", "\u2022": "*", "\u00a0": " ",
})
THREE_D_SECURE_WORDING = {
    "authenticated": "Authenticated with 3-D Secure",
    "attempt_acknowledged": "3-D Secure attempted (card not enrolled)",
    "exempted": "Exempted from 3-D Secure",
    "not_supported": "3-D Secure not supported by the card",
    "failed": "3-D Secure failed",
    "processing_error": "3-D Secure could not be completed",
}


@dataclass(frozen=True)
class ReceiptData:
    """Everything printed on a receipt. ``amount`` is in minor units; ``paid_at`` is a
    unix timestamp, printed in UTC."""

    receipt_number: str
    merchant_name: str
    lot: int | str
    title: str
    buyer_name: str
    buyer_email: str
    amount: int
    currency: str
    card_brand: str | None
    card_last4: str | None
    three_d_secure_result: str | None
    paid_at: int
    payment_reference: str | None = None


def receipt_for(win: AuctionWin, transaction: Transaction, order_id: str, buyer: User,
                merchant_name: str) -> ReceiptData:
    """The receipt of an order paid by ``transaction``; the order id is its number."""
    return ReceiptData(
        receipt_number=order_id,
        merchant_name=merchant_name,
        lot=win.lot,
        title=win.title,
        buyer_name=buyer.name,
        buyer_email=buyer.email,
        amount=transaction.amount,
        currency=transaction.currency,
        card_brand=transaction.card_brand,
        card_last4=transaction.card_last4,
        three_d_secure_result=transaction.three_d_secure_result,
        paid_at=transaction.created_at,
        payment_reference=transaction.charge_id or transaction.payment_intent_id,
    )


def render_receipt(receipt: ReceiptData) -> bytes:
    """A one-page A4 PDF. The same data always gives the same bytes (the document's
    creation date is the payment's), so a receipt can be re-rendered and compared."""
    paid_at = _dt.datetime.fromtimestamp(receipt.paid_at, tz=_dt.UTC)
    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(auto=False)
    pdf.set_creation_date(paid_at)
    pdf.set_title(f"Receipt {receipt.receipt_number}")
    pdf.set_author(_printable(receipt.merchant_name))
    pdf.add_page()
    _heading(pdf, receipt, paid_at)
    _item_and_total(pdf, receipt)
    _payment(pdf, receipt)
    _footer(pdf, receipt)
    return bytes(pdf.output())


def _heading(pdf: FPDF, receipt: ReceiptData, paid_at: _dt.datetime) -> None:
    pdf.set_font("Helvetica", "B", 20)
    _line(pdf, receipt.merchant_name, height=12)
    pdf.set_font("Helvetica", "", 14)
    _line(pdf, "Receipt", height=10)
    pdf.ln(4)
    pdf.set_font("Helvetica", "", 11)
    _field(pdf, "Receipt number", receipt.receipt_number)
    _field(pdf, "Date paid", paid_at.strftime("%d %B %Y, %H:%M UTC"))
    _field(pdf, "Billed to", f"{receipt.buyer_name} <{receipt.buyer_email}>")
    pdf.ln(6)


def _item_and_total(pdf: FPDF, receipt: ReceiptData) -> None:
    amount = format_money(receipt.amount, receipt.currency)
    pdf.set_font("Helvetica", "B", 11)
    pdf.cell(140, 8, "Item", border="B")
    pdf.cell(0, 8, "Amount", border="B", align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font("Helvetica", "", 11)
    pdf.cell(140, 9, _fit(pdf, f"Lot {receipt.lot}: {receipt.title}", 136))
    pdf.cell(0, 9, _printable(amount), align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font("Helvetica", "B", 12)
    pdf.cell(140, 10, "Total paid", border="T")
    pdf.cell(0, 10, _printable(amount), border="T", align="R", new_x=XPos.LMARGIN,
             new_y=YPos.NEXT)
    pdf.ln(6)


def _payment(pdf: FPDF, receipt: ReceiptData) -> None:
    pdf.set_font("Helvetica", "", 11)
    brand = (receipt.card_brand or "card").title()
    last4 = receipt.card_last4 if receipt.card_last4 and receipt.card_last4.isdigit() else "????"
    _field(pdf, "Paid with", f"{brand} ending in {last4[-4:]}")
    _field(pdf, "Authentication", _three_d_secure(receipt.three_d_secure_result))
    if receipt.payment_reference:
        _field(pdf, "Payment reference", receipt.payment_reference)


def _footer(pdf: FPDF, receipt: ReceiptData) -> None:
    pdf.set_y(-30)
    pdf.set_font("Helvetica", "I", 9)
    _line(pdf, f"Paid through Stripe. Issued by {receipt.merchant_name}. Keep this receipt"
               " for your records.", height=6)


def _three_d_secure(result: str | None) -> str:
    if result is None:
        return "Not requested"
    return THREE_D_SECURE_WORDING.get(result, result.replace("_", " ").capitalize())


def _field(pdf: FPDF, label: str, value: str) -> None:
    pdf.set_font(style="B")
    pdf.cell(45, 7, label)
    pdf.set_font(style="")
    pdf.cell(0, 7, _fit(pdf, value, 130), new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def _line(pdf: FPDF, text: str, *, height: float) -> None:
    pdf.cell(0, height, _fit(pdf, text, pdf.epw), new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def _fit(pdf: FPDF, text: str, width: float) -> str:
    """``text`` made printable, shortened with "..." to fit ``width`` mm on one line."""
    text = _printable(text)
    if pdf.get_string_width(text) <= width:
        return text
    while text and pdf.get_string_width(f"{text}...") > width:
        text = text[:-1]
    return f"{text.rstrip()}..."


def _printable(text: str) -> str:
    """Card-number-like digits removed, then what the core font can draw."""
    text = CARD_NUMBER_LIKE.sub(REDACTED, text).translate(_LATIN1_SUBSTITUTES)
    return text.encode("latin-1", "replace").decode("latin-1")


class ReceiptStore:
    """Receipt PDFs in one directory, one file per order (``<order id>.pdf``)."""

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.directory = Path(directory)

    def path_for(self, order_id: str) -> Path:
        if not _ORDER_ID.match(order_id):
            raise ValueError(f"not an order id: {order_id!r}")
        return self.directory / f"{order_id}.pdf"

    def save(self, order_id: str, pdf: bytes) -> str:
        """Write atomically (a reader sees no file or the whole file); returns the path."""
        path = self.path_for(order_id)
        self.directory.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f"{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        partial.write_bytes(pdf)
        partial.replace(path)
        return str(path)

    def load(self, order_id: str) -> bytes | None:
        try:
            return self.path_for(order_id).read_bytes()
        except FileNotFoundError:
            return None

    def exists(self, order_id: str) -> bool:
        return self.path_for(order_id).exists()
