"""A durable job as the scheduler sees it: a kind of work, what it is about, when it is
due, and which worker (``host:pid``) holds its lease."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Job:
    id: int
    kind: str
    ref: str
    due_at: float
    attempts: int
    claimed_by: str | None = None
