"""A real SMTP server on loopback (the product's aiosmtpd mail catcher) that keeps every
message it receives in memory, so a scenario can read the mail a buyer would get,
attachments included."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from email.message import EmailMessage

from simulator.cli.mail_catcher import MailCatcher as ProductMailCatcher
from simulator.common.clock import monotonic


@dataclass
class Mailbox:
    """What the SMTP server received, in order."""

    messages: list[EmailMessage] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _arrived: threading.Condition = field(init=False)

    def __post_init__(self) -> None:
        self._arrived = threading.Condition(self._lock)

    def add(self, message: EmailMessage) -> None:
        with self._arrived:
            self.messages.append(message)
            self._arrived.notify_all()

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


class MailCatcher(ProductMailCatcher):
    """The product's mail catcher, handing every message to a ``Mailbox`` to read."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.mailbox = Mailbox()
        super().__init__(host=host, port=port, on_message=self.mailbox.add)
