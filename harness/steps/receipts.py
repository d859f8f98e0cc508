"""Receipts: the PDF a buyer downloads after paying, the same PDF attached to the
receipt email, and the refusal another buyer meets. Each PDF is read back with pypdf,
so the steps check what a person would read on it, not how it was built."""

from __future__ import annotations

import io
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pypdf import PdfReader
from pytest_bdd import given, parsers, then, when

from harness.data import DataBuilder
from harness.marketplace import Marketplace, WonLot
from harness.pages.checkout import CardDetails, CheckoutPage
from harness.pages.service import ServicePages
from harness.steps.cards import CARDS
from harness.steps.common import STATUS, dollars, open_checkout
from harness.steps.phrases import phrase
from simulator.common.clock import monotonic
from simulator.service.domain.order import Order

# Anything shaped like a card number: 13 to 19 digits, spaces or dashes between them
# (https://docs.stripe.com/security/guide). Letters on either side make it an id.
CARD_NUMBER_LIKE = re.compile(r"(?<![\w])(?:\d[ -]?){12,18}\d(?![\w])")
RECEIPT_SUBJECT = "Your receipt for lot {lot}"


@dataclass(frozen=True)
class Receipt:
    """A receipt PDF as the buyer got it (downloaded or attached) and its text."""

    filename: str
    pdf: bytes

    @property
    def text(self) -> str:
        reader = PdfReader(io.BytesIO(self.pdf))
        return "\n".join(page.extract_text() or "" for page in reader.pages)


@dataclass(frozen=True)
class Refusal:
    """What a buyer met when asking for a receipt that is not theirs."""

    http_status: int
    content_type: str
    code: str
    message: str


def wait_until(check: Callable[[], object], what: str, timeout: float = 15.0) -> None:
    """Poll ``check()`` until it is truthy: for work the service does right after the
    commit that queued it (a job, a webhook), so milliseconds, not a fixed sleep."""
    deadline = monotonic() + timeout
    pause = threading.Event()
    while not check():
        if monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        pause.wait(0.1)


def paid_order(marketplace: Marketplace, won: WonLot) -> Order:
    orders = [o for o in marketplace.orders(won) if o.status == "paid"]
    assert len(orders) == 1, marketplace.orders(won)
    return orders[0]


def wait_for_receipt(marketplace: Marketplace, won: WonLot) -> Order:
    """The order once its receipt is rendered and attached (the receipt job)."""
    wait_until(lambda: any(o.receipt_path for o in marketplace.orders(won)),
               f"the receipt of lot {won.lot.number}")
    return paid_order(marketplace, won)


def pay_and_see_it_paid(pages: ServicePages, marketplace: Marketplace, won: WonLot,
                        card: CardDetails) -> None:
    """The buyer pays on Stripe's page and is back on the service's page, paid."""
    open_checkout(pages, won)
    CheckoutPage(pages.page).pay(card, email=won.buyer.email)
    pages.page.wait_for_url(f"{marketplace.url}/payments/sessions/*")
    pages.payment.wait_for_status(STATUS["paid"])


# == arranging ==============================================================================
@given(phrase("{name:Name} has paid {amount} for lot {number:d} with {card:Card}"),
       target_fixture="won")
def buyer_has_paid(pages: ServicePages, marketplace: Marketplace, stripe_data: DataBuilder,
                   name: str, amount: str, number: int, card: CardDetails) -> WonLot:
    buyer = marketplace.add_buyer(stripe_data.buyer(name))
    won = marketplace.record_win(buyer, stripe_data.lot(dollars(amount), number=number))
    pages.sign_in_as(buyer)
    pay_and_see_it_paid(pages, marketplace, won, card)
    return won


# == the buyer's receipt ====================================================================
@when("the buyer downloads the receipt", target_fixture="receipt")
def buyer_downloads_receipt(pages: ServicePages, marketplace: Marketplace,
                            won: WonLot) -> Receipt:
    pages.page.wait_for_url(f"{marketplace.url}/payments/sessions/*")
    pages.payment.wait_for_status(STATUS["paid"])
    wait_for_receipt(marketplace, won)
    if not pages.payment.has_receipt():
        # The page shows the link only once the receipt is rendered, and stops polling
        # once the payment is paid: a page drawn between the two needs a reload.
        pages.page.reload()
        pages.payment.wait_until_shown()
    assert pages.payment.has_receipt()
    download = pages.payment.download_receipt()
    return Receipt(download.suggested_filename, Path(download.path()).read_bytes())


@then("the buyer receives the receipt by email as a PDF attachment",
      target_fixture="receipt")
def buyer_receives_receipt_mail(marketplace: Marketplace, won: WonLot) -> Receipt:
    message = marketplace.mail.mailbox.wait_for(
        won.buyer.email, RECEIPT_SUBJECT.format(lot=won.lot.number))
    body = message.get_body(preferencelist=("plain",))
    assert body is not None and won.lot.display in body.get_content()
    pdfs = [part for part in message.iter_attachments()
            if part.get_content_type() == "application/pdf"]
    assert len(pdfs) == 1, [part.get_content_type() for part in message.iter_attachments()]
    payload = pdfs[0].get_payload(decode=True)
    assert isinstance(payload, bytes)
    return Receipt(pdfs[0].get_filename() or "", payload)


@then(parsers.parse("the receipt names lot {number:d} and {amount}"))
def receipt_names_lot_and_amount(receipt: Receipt, won: WonLot, number: int,
                                 amount: str) -> None:
    assert receipt.filename.endswith(".pdf"), receipt.filename
    text = receipt.text
    assert f"Lot {number}: {won.lot.title}" in text, text
    assert f"Total paid {amount}" in " ".join(text.split()), text


@then(parsers.parse("the receipt names the card as the {brand} ending in {last4}"))
def receipt_names_card(receipt: Receipt, brand: str, last4: str) -> None:
    assert f"Paid with {brand} ending in {last4}" in " ".join(receipt.text.split()), \
        receipt.text


@then("the receipt never shows a full card number")
def receipt_has_no_card_number(receipt: Receipt, won: WonLot) -> None:
    text = receipt.text
    assert CARD_NUMBER_LIKE.findall(text) == [], text
    digits = re.sub(r"\D", "", text)
    for number in CARDS.values():
        assert number.replace(" ", "") not in digits


# == someone else's receipt ================================================================
@when(parsers.parse("another buyer, {name}, asks for the receipt"),
      target_fixture="refusal")
def other_buyer_asks_for_receipt(pages: ServicePages, marketplace: Marketplace,
                                 stripe_data: DataBuilder, won: WonLot,
                                 name: str) -> Refusal:
    order = wait_for_receipt(marketplace, won)
    other = marketplace.add_buyer(stripe_data.buyer(name))
    pages.sign_in_as(other)
    url = f"{marketplace.url}/payments/receipts/{order.id}.pdf"
    answer = pages.page.request.get(url)  # the browser's own session
    pages.page.goto(url)
    code, message = pages.payment.error()
    return Refusal(answer.status, answer.headers.get("content-type", ""), code, message)


@then(parsers.parse('the receipt is refused with "{message}"'))
def receipt_refused(refusal: Refusal, message: str) -> None:
    assert refusal.http_status == 403, refusal
    assert "pdf" not in refusal.content_type, refusal
    assert (refusal.code, refusal.message) == ("forbidden", message), refusal
