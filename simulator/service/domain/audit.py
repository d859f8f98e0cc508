"""The audit trail: who changed what, from what to what, when. Written in the same
database transaction as the change it records."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
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


# -- the hash chain --------------------------------------------------------------------------
# Each entry carries the SHA-256 of the one before it and its own, over a canonical form
# (compact JSON, sorted keys), so an edited or deleted entry breaks every link after it.
# ``stripe-sim audit verify`` walks the chain; the newest hash is also kept apart (the
# head), so entries cut from the end are noticed too.
GENESIS = "0" * 64


def canonical(entry: AuditEntry) -> str:
    return json.dumps([entry.actor, entry.action, entry.subject_type, entry.subject_id,
                       entry.before, entry.after, entry.at], sort_keys=True,
                      separators=(",", ":"), ensure_ascii=False, default=str)


def link_hash(previous_hash: str, entry: AuditEntry) -> str:
    """The hash of ``entry`` following the entry whose hash is ``previous_hash``."""
    return hashlib.sha256(f"{previous_hash}\n{canonical(entry)}".encode()).hexdigest()


@dataclass(frozen=True)
class ChainedEntry:
    """An entry as stored: its row id and the two hashes beside it."""

    id: int
    entry: AuditEntry
    previous_hash: str | None
    hash: str | None


@dataclass(frozen=True)
class ChainBreak:
    entry_id: int
    reason: str

    def __str__(self) -> str:
        return f"audit log broken at entry {self.entry_id}: {self.reason}"


def first_break(entries: Iterable[ChainedEntry],
                head: tuple[int, str] | None) -> ChainBreak | None:
    """The first entry (in id order) whose links do not hold; ``head`` is the id and
    hash of the newest entry as recorded when it was written."""
    previous: ChainedEntry | None = None
    for stored in entries:
        expected_previous = previous.hash if previous and previous.hash else GENESIS
        if stored.hash is None:
            return ChainBreak(stored.id, "it has no hash (written outside the chain)")
        if stored.previous_hash != expected_previous:
            after = f"entry {previous.id}" if previous else "the start of the log"
            return ChainBreak(stored.id, f"it does not follow {after} (an entry between them"
                                         " was deleted or changed)")
        if link_hash(expected_previous, stored.entry) != stored.hash:
            return ChainBreak(stored.id, "its content does not match its hash (edited)")
        previous = stored
    return _check_head(previous, head)


def _check_head(last: ChainedEntry | None, head: tuple[int, str] | None) -> ChainBreak | None:
    if head is None:
        return None if last is None else ChainBreak(last.id, "the record of the newest entry"
                                                             " is missing")
    head_id, head_hash = head
    if last is None or last.hash != head_hash:
        return ChainBreak(head_id, "it is missing: the newest entries were deleted")
    return None
