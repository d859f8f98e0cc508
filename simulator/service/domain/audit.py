"""The audit trail: who changed what, from what to what, when. Written in the same
database transaction as the change it records."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# Who acts on payments: a buyer, Stripe through a webhook, the scheduler, an admin.
SYSTEM = "system"
STRIPE = "stripe"
SCHEDULER = "scheduler"


def user_actor(user_id: str) -> str:
    return f"user:{user_id}"


@dataclass(frozen=True)
class AuditEntry:
    actor: str
    action: str
    subject_type: str
    subject_id: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    at: int

    def changed_fields(self) -> dict[str, tuple[Any, Any]]:
        """Only what differs: what an admin reads first."""
        before, after = self.before or {}, self.after or {}
        keys = sorted(set(before) | set(after))
        return {key: (before.get(key), after.get(key)) for key in keys
                if before.get(key) != after.get(key)}
