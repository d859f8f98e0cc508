"""Deleting a test clock (https://docs.stripe.com/api/test_clocks/delete): the clock
takes the customers attached to it along, so the step sits above both objects."""

from __future__ import annotations

from simulator.sandbox import jobs
from simulator.sandbox.resources.base import Ctx, load, save
from simulator.sandbox.resources.customer import delete_customer
from simulator.sandbox.resources.test_clock import ADVANCE_JOB, TestClock


def delete_test_clock(ctx: Ctx, clock_id: str) -> TestClock:
    """Deleting a clock deletes every customer attached to it (and their objects)."""
    clock = load(ctx, TestClock, clock_id)
    for customer_id in _attached_customer_ids(ctx, clock.id):
        delete_customer(ctx, customer_id)
    jobs.cancel(ctx, ADVANCE_JOB, clock.id)
    snapshot = TestClock.from_state(clock.state())
    clock.deleted = True
    save(ctx, clock)
    ctx.emit("test_helpers.test_clock.deleted", snapshot)
    return clock


def _attached_customer_ids(ctx: Ctx, clock_id: str) -> list[str]:
    rows = ctx.store.conn.execute(
        "SELECT id FROM objects WHERE type = 'customer' AND deleted = 0"
        " AND json_extract(data, '$.test_clock') = ? ORDER BY created, rowid",
        (clock_id,),
    ).fetchall()
    return [str(row[0]) for row in rows]
