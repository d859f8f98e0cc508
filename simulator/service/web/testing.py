"""Test-only routes under ``/_test``: move the service's clock and run due jobs now, so
out-of-process tests never sleep. Registered only when ``config.test_mode`` is on;
otherwise these paths are plain 404s."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from simulator.service.web.errors import InvalidRequest
from simulator.service.web.runtime import service_runtime

bp = Blueprint("testing", __name__, url_prefix="/_test")


def _seconds() -> int:
    body = request.get_json(silent=True) if request.is_json else None
    raw = body.get("seconds") if isinstance(body, dict) else request.values.get("seconds")
    try:
        seconds = int(float(str(raw)))
    except ValueError:
        raise InvalidRequest("seconds must be a number of seconds.") from None
    if seconds < 0:
        raise InvalidRequest("The clock only moves forward.")
    return seconds


def _clock_body() -> dict[str, float | int]:
    clock = service_runtime().clock
    return {"now": clock.timestamp(), "offset_seconds": clock.offset}


@bp.get("/clock")
def show_clock() -> Response:
    return jsonify(_clock_body())


@bp.post("/clock/advance")
def advance_clock() -> Response:
    """Move the clock, then run what became due (as the sandbox's clock route does)."""
    rt = service_runtime()
    rt.advance_clock(_seconds())
    ran = rt.service.run_due_jobs()
    return jsonify({**_clock_body(), "jobs_run": ran})


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
