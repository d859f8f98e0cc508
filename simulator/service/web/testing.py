"""Test-only routes under ``/_test``: move the service's clock and run due jobs now, so
out-of-process tests never sleep. Registered only when ``config.test_mode`` is on;
otherwise these paths are plain 404s.

A service that follows the sandbox's clock (``adapters/sandbox_clock.py``) moves time at
the sandbox, which moves both in time order and tells this service each step through
``/_test/clock/sync``. A service on its own clock (real Stripe) steps through its own due
jobs the same way."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from simulator.service.adapters.sandbox_clock import SandboxClockUnavailable, advance_at_sandbox
from simulator.service.scheduler import RECONCILE_PAYMENTS, RECOVER_INBOX
from simulator.service.web.errors import InvalidRequest, WebError
from simulator.service.web.runtime import service_runtime

bp = Blueprint("testing", __name__, url_prefix="/_test")
MAX_ADVANCE_SECONDS = 5 * 366 * 24 * 3600
UPKEEP_KINDS = (RECONCILE_PAYMENTS, RECOVER_INBOX)


def _seconds() -> int:
    body = request.get_json(silent=True) if request.is_json else None
    raw = body.get("seconds") if isinstance(body, dict) else request.values.get("seconds")
    try:
        seconds = int(float(str(raw)))
    except ValueError:
        raise InvalidRequest("seconds must be a number of seconds.") from None
    if seconds < 0:
        raise InvalidRequest("The clock only moves forward.")
    if seconds > MAX_ADVANCE_SECONDS:
        raise InvalidRequest(f"seconds must be at most {MAX_ADVANCE_SECONDS} (5 years).")
    return seconds


def _clock_body() -> dict[str, float | int]:
    clock = service_runtime().clock
    return {"now": clock.timestamp(), "offset_seconds": clock.offset}


def _next_due() -> float | None:
    """The next timed rule (the periodic upkeep jobs do not count: they are no rule)."""
    return service_runtime().repo.next_job_due(except_kinds=UPKEEP_KINDS)


@bp.get("/clock")
def show_clock() -> Response:
    return jsonify(_clock_body())


@bp.post("/clock/advance")
def advance_clock() -> Response:
    """Move the one time forward, running what falls due in time order."""
    rt = service_runtime()
    seconds = _seconds()
    if rt.config.follow_sandbox_clock:
        try:
            jump = advance_at_sandbox(rt.config, seconds)
        except SandboxClockUnavailable as error:
            raise WebError("sandbox_unavailable", 502,
                           f"The sandbox's clock could not be moved: {error}") from None
        return jsonify({**_clock_body(), "jobs_run": jump.get("jobs_run", 0),
                        "steps": jump.get("steps", 1)})
    target = rt.clock.now() + seconds
    ran, steps = 0, 0
    while (due := _next_due()) is not None and rt.clock.now() < due <= target:
        rt.advance_clock(due - rt.clock.now())
        ran, steps = ran + rt.service.run_due_jobs(), steps + 1
    rt.advance_clock(max(0.0, target - rt.clock.now()))
    ran += rt.service.run_due_jobs()
    return jsonify({**_clock_body(), "jobs_run": ran, "steps": steps + 1})


@bp.post("/clock/sync")
def sync_clock() -> Response:
    """The sandbox's clock moved (``simulator/sandbox/timeline.py``): adopt its offset,
    run what is due, and say when this service next has something due."""
    rt = service_runtime()
    body = request.get_json(silent=True) or {}
    try:
        offset = float(body["offset_seconds"])
    except (KeyError, TypeError, ValueError):
        raise InvalidRequest("offset_seconds must be a number.") from None
    rt.set_clock_offset(offset)
    ran = rt.service.run_due_jobs()
    return jsonify({**_clock_body(), "jobs_run": ran, "next_due_at": _next_due()})


@bp.post("/jobs/run")
def run_jobs() -> Response:
    return jsonify({"jobs_run": service_runtime().service.run_due_jobs()})


@bp.post("/faults")
def arm_crash_point() -> Response:
    """``{"crash_at": POINT, "count": N}``: the next N times a worker reaches POINT it
    dies with SIGKILL (``payments/crash_points.py``), for fault tests."""
    from simulator.service.payments.crash_points import CrashPoints

    body = request.get_json(silent=True) or {}
    rt = service_runtime()
    try:
        count = int(body.get("count", 1))
        armed = CrashPoints(rt.repo, rt.clock).arm(str(body.get("crash_at")), count)
    except (TypeError, ValueError) as error:
        raise InvalidRequest(str(error)) from None
    return jsonify({"armed": armed})


@bp.post("/reset")
def reset() -> Response:
    """Forget every win, payment, order, event, job and mail (users and the webhook
    endpoint stay): a test harness's clean slate between scenarios, in milliseconds."""
    rt = service_runtime()
    cleared = rt.repo.clear_business_data()
    rt.service.schedule_upkeep()
    return jsonify({"reset": True, "rows_deleted": cleared})
