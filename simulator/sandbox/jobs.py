"""Timed rules as durable jobs: a row per thing due at a sandbox time (a Checkout
Session's expiry, a test clock finishing its advance, a webhook retry).

Nothing sleeps: ``run_due`` runs whatever is due on the sandbox clock, and is called by
the server's ticker, after every clock move, and on demand from tests. A job is claimed
with a lease in the database, so several processes never run the same job twice, and a
job whose process died is picked up again when its lease runs out.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from simulator.common.clock import system_time
from simulator.common.ids import IdGenerator
from simulator.sandbox.resources.base import Ctx
from simulator.sandbox.store import Store

log = logging.getLogger(__name__)
LEASE_SECONDS = 30.0
JobHandler = Callable[[Ctx, str], None]
HANDLERS: dict[str, JobHandler] = {}


def job_handler(kind: str) -> Callable[[JobHandler], JobHandler]:
    def register(handler: JobHandler) -> JobHandler:
        HANDLERS[kind] = handler
        return handler

    return register


def schedule(ctx: Ctx, kind: str, ref: str, due_at: float) -> None:
    """Schedule (or reschedule) the one job of ``kind`` for ``ref``."""
    ctx.store.conn.execute(
        "INSERT INTO jobs (kind, ref, due_at, claimed_until, attempts) VALUES (?, ?, ?, 0, 0)"
        " ON CONFLICT(kind, ref) DO UPDATE SET due_at = excluded.due_at, claimed_until = 0",
        (kind, ref, due_at),
    )


def cancel(ctx: Ctx, kind: str, ref: str) -> None:
    ctx.store.conn.execute("DELETE FROM jobs WHERE kind = ? AND ref = ?", (kind, ref))


def _claim_next(store: Store, now: float) -> tuple[int, str, str] | None:
    with store.transaction() as conn:
        row = conn.execute(
            "SELECT id, kind, ref FROM jobs WHERE due_at <= ? AND claimed_until < ?"
            " ORDER BY due_at, id LIMIT 1",
            (now, system_time()),
        ).fetchone()
        if row is None:
            return None
        conn.execute(
            "UPDATE jobs SET claimed_until = ?, attempts = attempts + 1 WHERE id = ?",
            (system_time() + LEASE_SECONDS, row[0]),
        )
    return int(row[0]), str(row[1]), str(row[2])


def run_due(store: Store, now: Callable[[], float], ids: IdGenerator, base_url: str,
            limit: int = 10_000) -> int:
    """Run every job due at the sandbox's current time; returns how many ran."""
    ran = 0
    while ran < limit:
        claimed = _claim_next(store, now())
        if claimed is None:
            break
        job_id, kind, ref = claimed
        handler = HANDLERS.get(kind)
        try:
            with store.transaction() as conn:
                if handler is not None:
                    handler(Ctx(store=store, now=int(now()), ids=ids, base_url=base_url), ref)
                conn.execute("DELETE FROM jobs WHERE id = ? AND claimed_until > 0", (job_id,))
        except Exception:
            log.exception("job %s %s failed; it will be retried when its lease runs out", kind, ref)
        ran += 1
    return ran
