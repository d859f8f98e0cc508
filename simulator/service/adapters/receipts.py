"""The buyer's receipt: a one-page PDF made with fpdf2, kept on disk by order id,
encrypted and written once.

A receipt names the card by brand and last four digits only. Free text that reaches the
page (a lot title, a buyer's name) is scrubbed of anything shaped like a card number
(13 to 19 digits, spaces or dashes allowed between them), so a PAN typed into the wrong
field never ends up in a stored document (https://docs.stripe.com/security/guide).
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import os
import re
import threading
from dataclasses import dataclass
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from simulator.service.adapters.encryption import DataCipher, DataKeyError
from simulator.service.adapters.errors import ReceiptExists, ReceiptTampered
from simulator.service.domain.auction import AuctionWin
from simulator.service.domain.card_numbers import mask_card_numbers
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
    text = mask_card_numbers(CARD_NUMBER_LIKE.sub(REDACTED, text))
    text = text.translate(_LATIN1_SUBSTITUTES)
    return text.encode("latin-1", "replace").decode("latin-1")


class ReceiptStore:
    """Receipt PDFs in one directory, one file per order (``<order id>.pdf.enc``):
    encrypted with the data key, owner-only (0600), and written once.

    The S3 Object Lock idea: a receipt is a record, so a second write of the same
    receipt is refused (``ReceiptExists``), and the PDF's SHA-256, recorded with the order
    when it is written, is checked on every read; a file altered or swapped for another
    order's is refused (``ReceiptTampered``). Receipts written before encryption
    (``<order id>.pdf``) still read, and ``stripe-sim keys rotate`` encrypts them.
    """

    SUFFIX = ".pdf.enc"
    LEGACY_SUFFIX = ".pdf"

    def __init__(self, directory: str | os.PathLike[str], cipher: DataCipher) -> None:
        self.directory = Path(directory)
        self.cipher = cipher

    def path_for(self, order_id: str) -> Path:
        return self.directory / f"{_checked(order_id)}{self.SUFFIX}"

    def legacy_path_for(self, order_id: str) -> Path:
        return self.directory / f"{_checked(order_id)}{self.LEGACY_SUFFIX}"

    def save(self, order_id: str, pdf: bytes) -> str:
        """Write the receipt (whole, or not at all); returns its path. Raises
        ``ReceiptExists`` when the order has one already, even from another process."""
        path = self.path_for(order_id)
        if self.legacy_path_for(order_id).exists():
            raise ReceiptExists(order_id, str(self.legacy_path_for(order_id)))
        partial = self._write_partial(path, self.cipher.encrypt_bytes(pdf))
        try:
            os.link(partial, path)  # fails if the file exists: no overwrite, ever
        except FileExistsError:
            raise ReceiptExists(order_id, str(path)) from None
        finally:
            partial.unlink()
        return str(path)

    def load(self, order_id: str, sha256: str | None = None) -> bytes | None:
        """The PDF, or None when there is none. With ``sha256`` (what was recorded), a
        file whose content differs is refused with ``ReceiptTampered``."""
        data = self._read(order_id)
        if data is None:
            return None
        try:
            pdf = self.cipher.decrypt_bytes(data)
        except DataKeyError:
            raise ReceiptTampered(order_id, "it cannot be decrypted (altered, or"
                                            " encrypted with another key)") from None
        if sha256 is not None and receipt_digest(pdf) != sha256:
            raise ReceiptTampered(order_id, "its SHA-256 is not the one recorded when it"
                                            " was written")
        return pdf

    def exists(self, order_id: str) -> bool:
        return self.path_for(order_id).exists() or self.legacy_path_for(order_id).exists()

    def reencrypt(self, order_id: str, sha256: str | None) -> tuple[str, str] | None:
        """Key rotation, the one sanctioned rewrite: the receipt re-encrypted with the
        newest key after its SHA-256 is checked (a plain one from before encryption is
        encrypted and the plain file removed). Its path and SHA-256; None without one."""
        pdf = self.load(order_id, sha256)
        if pdf is None:
            return None
        path, legacy = self.path_for(order_id), self.legacy_path_for(order_id)
        self._write_partial(path, self.cipher.encrypt_bytes(pdf)).replace(path)
        legacy.unlink(missing_ok=True)
        return str(path), receipt_digest(pdf)

    def order_ids(self) -> list[str]:
        """Every order with a receipt file here (encrypted or from before encryption)."""
        if not self.directory.is_dir():
            return []
        names = {path.name.removesuffix(self.SUFFIX).removesuffix(self.LEGACY_SUFFIX)
                 for path in self.directory.iterdir()
                 if path.name.endswith((self.SUFFIX, self.LEGACY_SUFFIX))}
        return sorted(name for name in names if _ORDER_ID.match(name))

    def _read(self, order_id: str) -> bytes | None:
        for path in (self.path_for(order_id), self.legacy_path_for(order_id)):
            try:
                return path.read_bytes()
            except FileNotFoundError:
                continue
        return None

    def _write_partial(self, path: Path, data: bytes) -> Path:
        """``data`` in an owner-only file beside ``path``, on disk before it is named."""
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        partial = path.with_name(f"{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        partial.unlink(missing_ok=True)
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        return partial


def receipt_digest(pdf: bytes) -> str:
    return hashlib.sha256(pdf).hexdigest()


def _checked(order_id: str) -> str:
    if not _ORDER_ID.match(order_id):
        raise ValueError(f"not an order id: {order_id!r}")
    return order_id
