"""The webhook receiver's record of refused deliveries: counted security events (one row
per reason and ``BUCKET_SECONDS``, however many arrive: anyone can post to the
endpoint), and in a burst one alert. (Accepted deliveries go to the inbox of
``payments/inbox.py``.)"""

from __future__ import annotations

from simulator.common.clock import Clock
from simulator.service.domain.alerts import SignatureFailureBurst
from simulator.service.domain.stores import IncidentStore

SIGNATURE_KINDS = "webhook_signature"
BUCKET_SECONDS = 300


class Inbox:
    def __init__(self, repo: IncidentStore, clock: Clock,
                 burst: SignatureFailureBurst | None = None) -> None:
        self.repo = repo
        self.clock = clock
        self.burst = burst or SignatureFailureBurst()

    def security_event(self, kind: str, detail: str, remote_addr: str) -> None:
        """Record a refused delivery; many in a short time raise one alert."""
        now = self.clock.timestamp()
        self.repo.count_security_event(kind, detail[:500], remote_addr, now, BUCKET_SECONDS)
        since = now - self.burst.window_seconds
        failures = self.repo.count_security_events(since, SIGNATURE_KINDS)
        if self.burst.is_burst(failures):
            self.repo.add_alert(self.burst.alert(failures, now), unless_since=since)

