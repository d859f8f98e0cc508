"""Sending mail over SMTP with the standard library.

The payment core never calls this while a payment is being recorded: it queues mail in
its outbox in the same database transaction, and a job sends it afterwards through
``Mailer.send`` (so a mail server that is down delays a receipt, never a payment).
"""

from __future__ import annotations

import contextlib
import logging
import smtplib
from collections.abc import Sequence
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Protocol

from simulator.common.clock import Clock
from simulator.service.adapters.errors import MailNotSent
from simulator.service.config import ServiceConfig
from simulator.service.domain.card_numbers import mask_card_numbers

log = logging.getLogger("simulator.service.mail")

Attachment = tuple[str, bytes, str]  # (filename, content, MIME type such as application/pdf)


class MailSender(Protocol):
    def send(self, to: str, subject: str, text: str,
             attachments: Sequence[Attachment] = ()) -> str: ...


class Mailer:
    """One SMTP connection per message: mail is rare here, and a fresh connection never
    finds itself dropped by the server after an idle hour."""

    def __init__(self, host: str, port: int, sender: str, *, timeout: float = 10.0,
                 clock: Clock | None = None) -> None:
        self.host = host
        self.port = port
        self.sender = sender
        self.timeout = timeout
        self.clock = clock or Clock()

    @classmethod
    def from_config(cls, config: ServiceConfig, clock: Clock | None = None) -> Mailer | None:
        """The configured SMTP server, or None when ``SMTP_HOST`` is not set (mail then
        stays queued in the outbox)."""
        if not config.smtp_host:
            return None
        return cls(config.smtp_host, config.smtp_port, config.mail_from, clock=clock)

    def send(self, to: str, subject: str, text: str,
             attachments: Sequence[Attachment] = ()) -> str:
        """Send one plain-text message; returns its Message-ID. Raises ``MailNotSent``
        (``permanent`` for a 5xx SMTP reply, which sending again cannot fix)."""
        message = self.compose(to, subject, text, attachments)
        try:
            self._deliver(message)
        except smtplib.SMTPRecipientsRefused as error:
            codes = [code for code, _ in error.recipients.values()]
            raise MailNotSent(f"recipient refused: {codes}",
                              permanent=all(c >= 500 for c in codes)) from error
        except smtplib.SMTPResponseException as error:
            raise MailNotSent(f"SMTP {error.smtp_code}: {error.smtp_error!r}",
                              permanent=error.smtp_code >= 500) from error
        except (smtplib.SMTPException, OSError) as error:
            raise MailNotSent(f"SMTP server unreachable: {error}", permanent=False) from error
        log.info("mail sent: %r (%d attachment(s))", subject, len(attachments))
        return str(message["Message-ID"])

    def _deliver(self, message: EmailMessage) -> None:
        """Once the server accepted the message, a failing QUIT is no reason to report
        it unsent (the outbox would send it twice)."""
        smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        try:
            smtp.send_message(message)
        finally:
            with contextlib.suppress(smtplib.SMTPException, OSError):
                smtp.quit()
            smtp.close()

    def compose(self, to: str, subject: str, text: str,
                attachments: Sequence[Attachment] = ()) -> EmailMessage:
        """The message as it will be sent. Header values with line breaks are refused
        by the email package, so a subject cannot smuggle in headers. Card numbers in the
        subject and text are masked (a buyer's name can hold one)."""
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = to
        message["Subject"] = mask_card_numbers(subject)
        message["Date"] = formatdate(self.clock.now(), usegmt=True)
        message["Message-ID"] = make_msgid(domain=self.sender.rpartition("@")[2] or None)
        message.set_content(mask_card_numbers(text))
        for filename, content, mime in attachments:
            maintype, _, subtype = mime.partition("/")
            message.add_attachment(content, maintype=maintype, subtype=subtype or "octet-stream",
                                   filename=filename)
        return message
