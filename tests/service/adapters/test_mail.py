"""Mail through a real SMTP server (aiosmtpd on a free loopback port)."""

from __future__ import annotations

import io
from email.utils import parsedate_to_datetime

import pytest
from adapters_support import SmtpServer
from pypdf import PdfReader

from harness.servers import free_port
from simulator.common.clock import Clock
from simulator.service.adapters.errors import MailNotSent
from simulator.service.adapters.mail import Mailer
from simulator.service.adapters.receipts import ReceiptData, render_receipt
from simulator.service.config import ServiceConfig

SENDER = "payments@auction.test"
RECEIPT = ReceiptData(
    receipt_number="ord_1", merchant_name="Lot & Hammer Auctions", lot=17,
    title="Brass telescope", buyer_name="Ada Lovelace", buyer_email="ada@example.com",
    amount=64200, currency="usd", card_brand="visa", card_last4="4242",
    three_d_secure_result="authenticated", paid_at=1763733780,
)


def _mailer(server: SmtpServer, clock: Clock | None = None) -> Mailer:
    return Mailer(server.host, server.port, SENDER, timeout=5, clock=clock)


def test_a_receipt_mail_arrives_with_its_pdf(smtp_server: SmtpServer) -> None:
    pdf = render_receipt(RECEIPT)

    message_id = _mailer(smtp_server).send(
        "ada@example.com", "Your receipt for lot 17",
        "Thank you for your payment of $642.00.\n",
        attachments=[("receipt-ord_1.pdf", pdf, "application/pdf")])

    [(envelope, message)] = smtp_server.sink.received
    assert (envelope.mail_from, envelope.rcpt_tos) == (SENDER, ["ada@example.com"])
    assert (message["Subject"], message["To"], message["From"]) \
        == ("Your receipt for lot 17", "ada@example.com", SENDER)
    assert message["Message-ID"] == message_id and message_id.endswith("@auction.test>")
    body = message.get_body(("plain",))
    assert body is not None and "$642.00" in body.get_content()
    [attachment] = list(message.iter_attachments())
    assert (attachment.get_filename(), attachment.get_content_type()) \
        == ("receipt-ord_1.pdf", "application/pdf")
    attached = attachment.get_content()
    assert attached == pdf
    text = PdfReader(io.BytesIO(attached)).pages[0].extract_text()
    assert "Lot 17: Brass telescope" in text and "Visa ending in 4242" in text


def test_the_date_header_comes_from_the_service_clock(smtp_server: SmtpServer) -> None:
    clock = Clock()
    clock.advance(3 * 24 * 3600)

    _mailer(smtp_server, clock).send("ada@example.com", "Reminder", "Pay soon.\n")

    [(_, message)] = smtp_server.sink.received
    sent_at = parsedate_to_datetime(message["Date"]).timestamp()
    assert abs(sent_at - clock.now()) < 5


def test_a_refused_recipient_is_a_permanent_failure(smtp_server: SmtpServer) -> None:
    with pytest.raises(MailNotSent) as raised:
        _mailer(smtp_server).send("nobody@unknown.test", "Receipt", "text\n")

    assert raised.value.permanent is True
    assert smtp_server.sink.received == []


def test_an_unreachable_server_is_a_temporary_failure() -> None:
    mailer = Mailer("127.0.0.1", free_port(), SENDER, timeout=2)

    with pytest.raises(MailNotSent) as raised:
        mailer.send("ada@example.com", "Receipt", "text\n")

    assert raised.value.permanent is False


def test_a_subject_cannot_carry_extra_headers(smtp_server: SmtpServer) -> None:
    with pytest.raises(ValueError, match="linefeed or carriage return"):
        _mailer(smtp_server).send("ada@example.com", "Hi\r\nBcc: all@example.com", "text\n")

    assert smtp_server.sink.received == []


def test_no_smtp_host_means_no_mailer() -> None:
    assert Mailer.from_config(ServiceConfig(smtp_host=None)) is None
    mailer = Mailer.from_config(ServiceConfig(smtp_host="mail.test", smtp_port=2525))
    assert mailer is not None and (mailer.host, mailer.port, mailer.sender) \
        == ("mail.test", 2525, "payments@auction.test")
