"""Test clocks (https://docs.stripe.com/api/test_clocks): a frozen time that customers
attached to the clock live at, moved forward only by ``advance``.

Advancing is asynchronous on Stripe: the call answers at once with ``status=advancing``
(and ``status_details.advancing.target_frozen_time``), and the clock turns ``ready`` at
the target time a moment later, emitting ``test_helpers.test_clock.ready``. Here the
second half is a durable job due at once, so the ticker, a sandbox clock move or
``POST /_sandbox/jobs/run`` completes it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from simulator.sandbox import jobs
from simulator.sandbox.errors import InvalidRequestError
from simulator.sandbox.params import Params
from simulator.sandbox.resources.base import Ctx, StripeObject, find, load, save

Status = Literal["ready", "advancing", "internal_failure"]

DAY = 24 * 60 * 60
# ``deletes_after``: when Stripe deletes the clock (and its customers) on its own. The
# sandbox reports 30 days after creation and never deletes clocks by itself.
LIFETIME_SECONDS = 30 * DAY
# "If there are no subscriptions in this test clock, it cannot be more than two years in
# the future." (https://docs.stripe.com/api/test_clocks/advance)
MAX_ADVANCE_SECONDS = 2 * 365 * DAY
NAME_MAX_LENGTH = 300
ADVANCE_JOB = "test_clock.advance"


@dataclass(kw_only=True)
class TestClock(StripeObject):
    OBJECT = "test_helpers.test_clock"
    PREFIX = "clock"
    NOUN = "billingclock"

    frozen_time: int = 0
    name: str | None = None
    status: Status = "ready"
    target_frozen_time: int | None = None
    deleted: bool = False

    def is_deleted(self) -> bool:
        return self.deleted

    @property
    def deletes_after(self) -> int:
        return self.created + LIFETIME_SECONDS

    def status_details(self) -> dict[str, Any]:
        if self.status == "advancing" and self.target_frozen_time is not None:
            return {"advancing": {"target_frozen_time": self.target_frozen_time}}
        return {}

    def serialize(self, ctx: Ctx) -> dict[str, Any]:
        if self.deleted:
            return {"id": self.id, "object": self.OBJECT, "deleted": True}
        return {
            "id": self.id,
            "object": self.OBJECT,
            "created": self.created,
            "deletes_after": self.deletes_after,
            "frozen_time": self.frozen_time,
            "livemode": False,
            "name": self.name,
            "status": self.status,
            "status_details": self.status_details(),
        }


@dataclass(frozen=True)
class TestClockCreate:
    """``POST /v1/test_helpers/test_clocks``: a clock frozen at ``frozen_time``."""

    frozen_time: int
    name: str | None = None

    @classmethod
    def from_params(cls, params: Params) -> TestClockCreate:
        return cls(params.required_integer("frozen_time", minimum=0),
                   params.string("name", max_length=NAME_MAX_LENGTH))


@dataclass(frozen=True)
class TestClockAdvance:
    """``POST /v1/test_helpers/test_clocks/{id}/advance``: the time to move the clock to."""

    frozen_time: int

    @classmethod
    def from_params(cls, params: Params) -> TestClockAdvance:
        return cls(params.required_integer("frozen_time"))


def create_test_clock(ctx: Ctx, request: TestClockCreate) -> TestClock:
    clock = TestClock(
        id=ctx.ids.new(TestClock.PREFIX),
        created=ctx.now,
        frozen_time=request.frozen_time,
        name=request.name,
    )
    save(ctx, clock)
    ctx.emit("test_helpers.test_clock.created", clock)
    return clock


def advance_test_clock(ctx: Ctx, clock_id: str, request: TestClockAdvance) -> TestClock:
    """Start moving the clock to ``frozen_time``; a job finishes the move."""
    clock = load(ctx, TestClock, clock_id)
    target = request.frozen_time
    _check_advance(clock, target)
    clock.status = "advancing"
    clock.target_frozen_time = target
    save(ctx, clock)
    ctx.emit("test_helpers.test_clock.advancing", clock)
    jobs.schedule(ctx, ADVANCE_JOB, clock.id, due_at=ctx.now)
    return clock


def _check_advance(clock: TestClock, target: int) -> None:
    if clock.status == "advancing":
        raise InvalidRequestError(
            f"The test clock {clock.id} is currently advancing. Wait until its status is"
            " `ready` before advancing it again.",
            param="frozen_time",
        )
    if target <= clock.frozen_time:
        raise InvalidRequestError(
            f"The frozen_time must be after the test clock's current frozen time"
            f" ({clock.frozen_time}).",
            param="frozen_time",
        )
    if target > clock.frozen_time + MAX_ADVANCE_SECONDS:
        raise InvalidRequestError(
            "A test clock with no subscriptions cannot be advanced more than two years"
            " into the future.",
            param="frozen_time",
        )


def finish_advance(ctx: Ctx, clock_id: str) -> None:
    """The objects on the clock have caught up: the clock stands at its target, ready."""
    clock = find(ctx, TestClock, clock_id)
    if clock is None or clock.deleted or clock.status != "advancing":
        return
    clock.frozen_time = clock.target_frozen_time or clock.frozen_time
    clock.target_frozen_time = None
    clock.status = "ready"
    save(ctx, clock)
    ctx.emit("test_helpers.test_clock.ready", clock)
