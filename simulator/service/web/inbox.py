"""The webhook receiver's writes: the inbox row of each delivery, and the security
event (plus, in a burst, an alert) for each refused one."""

from __future__ import annotations

from typing import Any

from simulator.common.clock import Clock
from simulator.service.adapters.repositories import Repository
from simulator.service.domain.alerts import SignatureFailureBurst

SIGNATURE_KINDS = "webhook_signature"


class Inbox:
    def __init__(self, repo: Repository, clock: Clock,
                 burst: SignatureFailureBurst | None = None) -> None:
        self.repo = repo
        self.clock = clock
        self.burst = burst or SignatureFailureBurst()

    def accept(self, event: dict[str, Any], payload: str) -> bool:
        """Store the raw delivery (what was signed); False for a duplicate."""
        return self.repo.accept_webhook_event(
            event["id"], event["type"], payload, self.clock.timestamp())

    def processed(self, event_id: str) -> None:
        with self.repo.transaction():
            self.repo.mark_webhook_processed(event_id, self.clock.timestamp())

    def failed(self, event_id: str, error: str) -> None:
        with self.repo.transaction():
            self.repo.mark_webhook_failed(event_id, error, self.clock.timestamp())

    def security_event(self, kind: str, detail: str, remote_addr: str) -> None:
        """Record a refused delivery; many in a short time raise one alert."""
        now = self.clock.timestamp()
        with self.repo.transaction():
            self.repo.add_security_event(kind, detail[:500], remote_addr, now)
        since = now - self.burst.window_seconds
        failures = self.repo.count_security_events(since, SIGNATURE_KINDS)
        if self.burst.is_burst(failures):
            self.repo.add_alert(self.burst.alert(failures, now), unless_since=since)

