"""Sending text messages through an SMS provider (``payments.ports.SmsSender``).

The one provider here is local: an outbox file that stands in for the buyers' phones, as
the mail catcher stands in for their inboxes. Each message is one JSON line (id, to,
text, sent_at), appended under an exclusive lock so several workers can share it. A
provider for a real SMS gateway would raise ``SmsNotSent`` the same way: ``permanent``
for a number it refuses, transient for an outage the scheduler's retries can outlast.
"""

from __future__ import annotations

import fcntl
import json
import logging
import re
from pathlib import Path
from typing import Any

from simulator.common.clock import Clock
from simulator.common.ids import IdGenerator, default_ids
from simulator.service.adapters.errors import AdapterError
from simulator.service.config import ServiceConfig

log = logging.getLogger("simulator.service.sms")

# E.164: a plus, a country code and up to 15 digits in all (spaces allowed for reading).
E164 = re.compile(r"^\+[1-9]\d{6,14}$")


class SmsNotSent(AdapterError):
    """The provider did not take the message. ``permanent`` when sending again cannot
    help (a number no network can reach)."""

    def __init__(self, message: str, *, permanent: bool) -> None:
        super().__init__(message)
        self.permanent = permanent


def normalized_number(number: str) -> str:
    return re.sub(r"[\s().-]", "", number)


class OutboxSmsProvider:
    def __init__(self, path: str | Path, *, clock: Clock | None = None,
                 ids: IdGenerator | None = None) -> None:
        self.path = Path(path)
        self.clock = clock or Clock()
        self.ids = ids or default_ids

    @classmethod
    def from_config(cls, config: ServiceConfig,
                    clock: Clock | None = None) -> OutboxSmsProvider | None:
        """The configured outbox, or None when ``SMS_OUTBOX`` is not set (messages then
        stay queued)."""
        return cls(config.sms_outbox, clock=clock) if config.sms_outbox else None

    def send(self, to: str, text: str) -> str:
        """Keep one message; returns the provider's id for it."""
        number = normalized_number(to)
        if not E164.match(number):
            raise SmsNotSent(f"not a phone number in international format: {to!r}",
                             permanent=True)
        message = {"id": self.ids.new("sms", 16), "to": number, "text": text,
                   "sent_at": self.clock.timestamp()}
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with open(self.path, "a", encoding="utf-8") as outbox:
                fcntl.flock(outbox, fcntl.LOCK_EX)
                outbox.write(json.dumps(message) + "\n")
        except OSError as error:
            raise SmsNotSent(f"SMS outbox unavailable: {error}", permanent=False) from error
        log.info("sms sent: %s", message["id"])
        return str(message["id"])


def read_sms_outbox(path: str | Path) -> list[dict[str, Any]]:
    """Every message the local provider kept, oldest first ([] before the first)."""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return []
    return [json.loads(line) for line in lines if line.strip()]
