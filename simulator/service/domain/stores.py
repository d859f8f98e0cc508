"""What the payment rules need of the service's storage, one small protocol per
aggregate. The SQLite repository (``adapters/storage/``) implements them all; a rule
that needs only jobs, or only the inbox, says so in its signature, and a test may hand
it anything with those methods."""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any, Protocol

from simulator.service.domain.alerts import Alert
from simulator.service.domain.inbox import InboxClaim, InboxEvent
from simulator.service.domain.jobs import Job


class Conflict(Exception):
    """A UNIQUE constraint refused a second copy of something that must exist once."""


class UnitOfWork(Protocol):
    def transaction(self) -> AbstractContextManager[object]:
        """One atomic unit of work; nested uses join the outer one."""
        ...


class StateStore(UnitOfWork, Protocol):
    """The service's own settings, by key (JSON values)."""

    def get_state(self, key: str) -> Any: ...

    def set_state(self, key: str, value: Any, at: int) -> None: ...


class AlertStore(UnitOfWork, Protocol):
    def add_alert(self, alert: Alert, *, unless_since: int | None = None) -> bool: ...

    def get_alert(self, alert_id: int) -> Alert | None: ...


class SecurityEventStore(UnitOfWork, Protocol):
    def add_security_event(self, kind: str, detail: str, remote_addr: str, at: int) -> None: ...

    def count_security_event(self, kind: str, detail: str, remote_addr: str, at: int,
                             bucket_seconds: int) -> None: ...

    def count_security_events(self, since: int, kind_prefix: str = "") -> int: ...


class IncidentStore(SecurityEventStore, AlertStore, Protocol):
    """Security events and the alerts they raise."""


class JobStore(UnitOfWork, Protocol):
    def schedule_job(self, kind: str, ref: str, due_at: float, at: int) -> int | None: ...

    def claim_due_job(self, now: float, lease_until: float, owner: str, lease_now: float,
                      job_id: int | None = None) -> Job | None: ...

    def finish_job(self, job_id: int, owner: str) -> None: ...

    def retry_job(self, job_id: int, owner: str, due_at: float, error: str,
                  give_up: bool) -> None: ...

    def held_due_jobs(self, now: float, lease_now: float) -> int: ...

    def job_claim_owners(self, lease_now: float) -> list[str]: ...

    def release_job_claims(self, owner: str | None = None) -> int: ...


class SchedulerStore(JobStore, AlertStore, Protocol):
    """Jobs, and the alert raised when one is given up."""


class InboxStore(UnitOfWork, Protocol):
    """The webhook inbox: deliveries stored, claimed, and marked once handled."""

    def claim_webhook_event(self, event_id: str, event_type: str, payload: str, at: int,
                            claim: InboxClaim) -> str: ...

    def claim_unfinished_webhook_event(self, at: int,
                                       claim: InboxClaim) -> InboxEvent | None: ...

    def mark_webhook_processed(self, event_id: str, at: int) -> None: ...

    def mark_webhook_failed(self, event_id: str, error: str, at: int) -> None: ...
