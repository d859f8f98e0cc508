"""Security events (the admin's "Security events" page) and the alerts they raise.

Two kinds of record. What a signed-in person did or was refused (a sign-in, a 403, an
administrator's action, a receipt link refused) is one row each, with who and from
where. What anyone can make happen at will, as often as they like (an unsigned webhook,
a form without its CSRF token, a test route without its token, a rate limit reached),
is *counted*: one row per kind and ``BUCKET_SECONDS``, so a flood cannot fill the disk.
Refused webhook deliveries are counted too, and many in a short time raise one alert.
"""

from __future__ import annotations

from typing import Protocol

from simulator.common.clock import Clock
from simulator.service.adapters.errors import ReceiptTampered
from simulator.service.domain.alerts import SignatureFailureBurst
from simulator.service.domain.audit import AuditEntry, user_actor
from simulator.service.domain.stores import AuditStore, IncidentStore
from simulator.service.payments.jobs import record_tampered_receipt

BUCKET_SECONDS = 300
SIGNATURE_KINDS = "webhook_signature"
MAX_DETAIL = 500


class SecurityStore(IncidentStore, AuditStore, Protocol):
    """Security events, the alerts they raise, and the audit entries of some."""


class SecurityLog:
    def __init__(self, store: SecurityStore, clock: Clock,
                 burst: SignatureFailureBurst | None = None) -> None:
        self.store = store
        self.clock = clock
        self.burst = burst or SignatureFailureBurst()

    def record(self, kind: str, detail: str, remote_addr: str) -> None:
        """One row: what a person did or was refused."""
        with self.store.transaction():
            self.store.add_security_event(kind, detail[:MAX_DETAIL], remote_addr,
                                          self.clock.timestamp())

    def count(self, kind: str, detail: str, remote_addr: str) -> None:
        """Counted in this kind's row of the current ``BUCKET_SECONDS``."""
        self.store.count_security_event(kind, detail[:MAX_DETAIL], remote_addr,
                                        self.clock.timestamp(), BUCKET_SECONDS)

    def record_with_audit(self, kind: str, user_id: str, detail: str,
                          remote_addr: str) -> None:
        """A security event that is also an entry of the hash-chained audit log (a
        sign-in, an administrator's action), written in one transaction."""
        at = self.clock.timestamp()
        with self.store.transaction():
            self.store.add_security_event(kind, detail[:MAX_DETAIL], remote_addr, at)
            self.store.add_audit(AuditEntry(
                user_actor(user_id), kind, "user", user_id, None,
                {"detail": detail[:MAX_DETAIL], "from": remote_addr}, at))

    def refused_delivery(self, kind: str, detail: str, remote_addr: str) -> None:
        """A webhook delivery refused before it was stored (``web/webhooks.py``):
        counted; many signature failures in a short time raise one alert."""
        now = self.clock.timestamp()
        self.store.count_security_event(kind, detail[:MAX_DETAIL], remote_addr, now,
                                        BUCKET_SECONDS)
        since = now - self.burst.window_seconds
        failures = self.store.count_security_events(since, SIGNATURE_KINDS)
        if self.burst.is_burst(failures):
            self.store.add_alert(self.burst.alert(failures, now), unless_since=since)

    def receipt_tampered(self, tampered: ReceiptTampered, remote_addr: str) -> None:
        """A receipt failed its integrity check as it was downloaded."""
        record_tampered_receipt(self.store, self.clock, tampered, remote_addr)
