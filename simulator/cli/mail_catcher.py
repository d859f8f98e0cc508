"""A local mail catcher: an SMTP server on loopback (aiosmtpd) that accepts every message
and keeps it, so the mail a demo or a load run sends really goes over SMTP (PDF receipt
attached) without reaching anyone.

Messages are kept in a Maildir (``mailbox.Maildir``: one file per message, readable by
any mail client or ``cat``), or only counted when no folder is given (load runs)."""

from __future__ import annotations

import mailbox
import threading
from collections.abc import Callable
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from simulator.cli.supervision import LOOPBACK, free_port


class _Keeper:
    """aiosmtpd's handler: every message accepted, counted, kept when asked, and handed
    to ``on_message`` (parsed) when one is given."""

    def __init__(self, maildir: mailbox.Maildir | None,
                 on_message: Callable[[EmailMessage], None] | None) -> None:
        self.maildir = maildir
        self.on_message = on_message
        self.count = 0
        self._lock = threading.Lock()

    async def handle_DATA(self, server: SMTP, session: Session,
                          envelope: Envelope) -> str:
        content = envelope.original_content or envelope.content or b""
        raw = content if isinstance(content, bytes) else content.encode()
        with self._lock:
            if self.maildir is not None:
                self.maildir.add(raw)
            self.count += 1
        if self.on_message is not None:
            self.on_message(_parsed(raw))
        return "250 Message accepted for delivery"


class MailCatcher:
    """``start()`` listens on ``port`` (a free one when 0); ``stop()`` closes it."""

    def __init__(self, folder: str | Path | None = None, *, host: str = LOOPBACK,
                 port: int = 0,
                 on_message: Callable[[EmailMessage], None] | None = None) -> None:
        self.folder = Path(folder) if folder is not None else None
        maildir = mailbox.Maildir(self.folder, create=True) if self.folder else None
        self._keeper = _Keeper(maildir, on_message)
        self._controller = Controller(self._keeper, hostname=host, port=port or free_port(),
                                      ready_timeout=10)

    @property
    def host(self) -> str:
        return str(self._controller.hostname)

    @property
    def port(self) -> int:
        return int(self._controller.port)

    @property
    def messages(self) -> int:
        """How many messages were accepted since start."""
        return self._keeper.count

    def start(self) -> MailCatcher:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()

    def __enter__(self) -> MailCatcher:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def read_maildir(folder: str | Path) -> list[EmailMessage]:
    """Every message kept in ``folder``, oldest first, parsed with the modern policy."""
    box = mailbox.Maildir(Path(folder), create=False)
    kept = []
    for key in box.iterkeys():
        with box.get_file(key) as file:
            raw = file.read()
        kept.append((box.get_message(key).get_date(), _parsed(raw)))
    return [message for _, message in sorted(kept, key=lambda pair: pair[0])]


def _parsed(raw: bytes) -> EmailMessage:
    message = message_from_bytes(raw, policy=policy.default)
    assert isinstance(message, EmailMessage)
    return message
