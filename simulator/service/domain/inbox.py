"""A Stripe event in the service's webhook inbox, and a worker's claim on processing one."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class InboxEvent:
    event_id: str
    type: str
    payload: str
    received_at: int
    status: str
    attempts: int
    error: str | None
    processed_at: int | None
    claimed_by: str | None = None
    claimed_until: float | None = None


@dataclass(frozen=True)
class InboxClaim:
    """A worker's claim on an inbox event: who (``host:pid``) and until when (wall
    clock, shared by every process on the machine)."""

    owner: str
    lease_until: float
    lease_now: float
    owner_alive: Callable[[str], bool]

    def holds(self, owner: str | None, until: float | None) -> bool:
        """Whether an existing claim still stands: unexpired, and its process alive."""
        return bool(owner) and (until or 0) > self.lease_now and self.owner_alive(str(owner))
