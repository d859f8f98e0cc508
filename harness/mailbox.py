"""A real SMTP server on loopback (aiosmtpd) that keeps every message it receives, so a
scenario can read the mail a buyer would get, attachments included."""

from __future__ import annotations

import email
import email.policy
import threading
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller

from simulator.common.clock import monotonic


@dataclass
class Mailbox:
    """What the SMTP server received, in order."""

    messages: list[EmailMessage] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _arrived: threading.Condition = field(init=False)

    def __post_init__(self) -> None:
        self._arrived = threading.Condition(self._lock)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self._arrived:
            self.messages.append(message)
            self._arrived.notify_all()
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[EmailMessage]:
        with self._lock:
            return [m for m in self.messages if address in str(m["To"])]

    def wait_for(self, address: str, subject_contains: str, timeout: float = 15.0
                 ) -> EmailMessage:
        """The first message to ``address`` whose subject contains the words; waits for
        the service's mail job (it runs after the commit that queued the mail)."""
        deadline = monotonic() + timeout
        with self._arrived:
            while True:
                for message in self.messages:
                    if address in str(message["To"]) and subject_contains in str(
                            message["Subject"]):
                        return message
                left = deadline - monotonic()
                if left <= 0:
                    subjects = [str(m["Subject"]) for m in self.messages
                                if address in str(m["To"])]
                    raise AssertionError(f"no mail to {address} about {subject_contains!r};"
                                         f" got {subjects}")
                self._arrived.wait(min(left, 0.5))


class MailCatcher:
    """``start()`` an SMTP server on a free loopback port; ``stop()`` it."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.mailbox = Mailbox()
        self._controller = Controller(self.mailbox, hostname=host, port=port or _free_port())

    @property
    def host(self) -> str:
        return str(self._controller.hostname)

    @property
    def port(self) -> int:
        return int(self._controller.port)

    def start(self) -> MailCatcher:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
