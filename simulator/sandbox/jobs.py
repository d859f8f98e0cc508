"""Timed rules as durable jobs: a row per thing due at a sandbox time (a Checkout
Session's expiry, a test clock finishing its advance, a webhook retry).

Nothing sleeps: ``run_due`` runs whatever is due on the sandbox clock, and is called by
the server's ticker, after every clock move, and on demand from tests. A job is claimed
with a lease in the database, so several processes never run the same job twice, and a
job whose process died is picked up again when its lease runs out.

The handlers live beside the objects they change; the sandbox's start-up
(``simulator.sandbox.registrations``) registers every one of them with ``register_job``,
in one list, so a process runs every kind whatever else it happened to import. A job of
a kind this process still cannot run is never dropped: it keeps its row and waits another
lease, for a process (or a release) that knows it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from simulator.common.clock import system_time
from simulator.common.ids import IdGenerator
from simulator.sandbox.context import Ctx, EventSink
from simulator.sandbox.store import Store

log = logging.getLogger(__name__)
LEASE_SECONDS = 30.0
JobHandler = Callable[[Ctx, str], None]
HANDLERS: dict[str, JobHandler] = {}
_warned_unknown: set[str] = set()


def register_job(kind: str, handler: JobHandler) -> None:
    HANDLERS[kind] = handler


def known_kinds() -> frozenset[str]:
    return frozenset(HANDLERS)


def schedule(ctx: Ctx, kind: str, ref: str, due_at: float) -> None:
    """Schedule (or reschedule) the one job of ``kind`` for ``ref``."""
    if kind not in HANDLERS:
        raise LookupError(f"no job handler for kind {kind!r}: register it in"
                          " simulator/sandbox/registrations.py")
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
        job_id, kind, ref = int(row[0]), str(row[1]), str(row[2])
        # A job of a kind nobody here can run is only set aside for a lease: that is
        # not an attempt, so its count does not grow while it waits.
        conn.execute(
            "UPDATE jobs SET claimed_until = ?, attempts = attempts + ? WHERE id = ?",
            (system_time() + LEASE_SECONDS, int(kind in HANDLERS), job_id),
        )
    return job_id, kind, ref


def _warn_unknown_kind(kind: str) -> None:
    if kind not in _warned_unknown:
        _warned_unknown.add(kind)
        log.warning("no handler for job kind %r in this process; its jobs are kept and"
                    " retried every %s s", kind, LEASE_SECONDS)


def run_due(store: Store, now: Callable[[], float], ids: IdGenerator, base_url: str,
            limit: int = 10_000, sink: EventSink | None = None) -> int:
    """Run every job due at the sandbox's current time; returns how many ran.

    A claimed job is not claimed again until its lease runs out, so one that fails, or
    whose kind no handler here knows, waits for a later call instead of spinning."""
    ran = 0
    for _ in range(limit):
        claimed = _claim_next(store, now())
        if claimed is None:
            break
        job_id, kind, ref = claimed
        handler = HANDLERS.get(kind)
        if handler is None:
            _warn_unknown_kind(kind)
            continue
        try:
            with store.transaction() as conn:
                handler(Ctx(store=store, now=int(now()), ids=ids, base_url=base_url,
                            sink=sink), ref)
                conn.execute("DELETE FROM jobs WHERE id = ? AND claimed_until > 0", (job_id,))
        except Exception:
            log.exception("job %s %s failed; it will be retried when its lease runs out", kind, ref)
        ran += 1
    return ran
