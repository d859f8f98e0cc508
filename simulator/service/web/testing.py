"""Test-only routes under ``/_test``: move the service's clock and run due jobs now, so
out-of-process tests never sleep. Registered only when ``config.test_mode`` is on;
otherwise these paths are plain 404s. Even then they answer only a request carrying the
service's test token in ``X-Test-Token`` (``adapters/control_token.py``) or a signed-in
administrator (whose cookie-authenticated POSTs must be JSON, which a cross-site form
cannot send); anyone else gets 403, counted as a security event.

``/_test/clock/sync`` alone is registered for a service following the sandbox's clock
(``clock_follower_bp``), test mode or not: the sandbox calls it with the token it was
given when the service registered.

A service that follows the sandbox's clock (``adapters/sandbox_clock.py``) moves time at
the sandbox, which moves both in time order and tells this service each step through
``/_test/clock/sync``. A service on its own clock (real Stripe) steps through its own due
jobs the same way."""

from __future__ import annotations

import math

from flask import Blueprint, Response, jsonify, request

from simulator.service.adapters.control_token import HEADER, clock_sync_token
from simulator.service.adapters.sandbox_clock import SandboxClockUnavailable, advance_at_sandbox
from simulator.service.domain.credentials import same_secret
from simulator.service.web import security_log
from simulator.service.web.auth import Viewer, check_api_origin, current_viewer
from simulator.service.web.errors import Forbidden, InvalidRequest, WebError
from simulator.service.web.runtime import service_runtime

bp = Blueprint("testing", __name__, url_prefix="/_test")
clock_follower_bp = Blueprint("clock_follower", __name__, url_prefix="/_test")
MAX_ADVANCE_SECONDS = 5 * 366 * 24 * 3600
MAX_OFFSET_SECONDS = 50 * 366 * 24 * 3600  # a sandbox offset beyond 50 years is a mistake
MAX_CRASH_COUNT = 1000
REFUSED = ("The test routes need the service's test token (X-Test-Token) or a signed-in"
           " administrator.")


@bp.before_request
def _token_or_admin() -> None:
    if same_secret(request.headers.get(HEADER), service_runtime().test_token):
        return
    viewer = _viewer_or_none()
    if viewer is not None and viewer.is_admin:
        check_api_origin()
        return
    security_log.count("test_route_refused", f"{request.method} {request.path}")
    raise Forbidden(REFUSED)


def _viewer_or_none() -> Viewer | None:
    try:
        return current_viewer()
    except WebError:
        return None


@clock_follower_bp.before_request
def _sandbox_token() -> None:
    """The sandbox's own token (or the full test token)."""
    token = service_runtime().test_token or ""
    given = request.headers.get(HEADER)
    if same_secret(given, clock_sync_token(token)) or same_secret(given, token):
        return
    security_log.count("test_route_refused", f"{request.method} {request.path}")
    raise Forbidden(REFUSED)


def _number(raw: object, name: str) -> float:
    """A finite number (JSON number or its text); booleans and lists are not numbers."""
    if isinstance(raw, bool) or not isinstance(raw, (int, float, str)):
        raise InvalidRequest(f"{name} must be a number.")
    try:
        value = float(raw)
    except ValueError:
        raise InvalidRequest(f"{name} must be a number.") from None
    if not math.isfinite(value):
        raise InvalidRequest(f"{name} must be a finite number.")
    return value


def _seconds() -> int:
    body = request.get_json(silent=True) if request.is_json else None
    raw = body.get("seconds") if isinstance(body, dict) else request.values.get("seconds")
    if raw is None:
        raise InvalidRequest("seconds must be a number of seconds.")
    try:
        seconds = int(_number(raw, "seconds"))
    except InvalidRequest:
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
    return service_runtime().controls.next_due()


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


@clock_follower_bp.post("/clock/sync")
def sync_clock() -> Response:
    """The sandbox's clock moved (``simulator/sandbox/timeline.py``): adopt its offset,
    run what is due, and say when this service next has something due."""
    rt = service_runtime()
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or "offset_seconds" not in body:
        raise InvalidRequest("offset_seconds must be a number.")
    offset = _number(body["offset_seconds"], "offset_seconds")
    if abs(offset) > MAX_OFFSET_SECONDS:
        raise InvalidRequest(f"offset_seconds must be within {MAX_OFFSET_SECONDS} s (50 years).")
    rt.set_clock_offset(offset)
    ran = rt.service.run_due_jobs_and_settle()
    return jsonify({**_clock_body(), "jobs_run": ran, "next_due_at": _next_due()})


@bp.post("/jobs/run")
def run_jobs() -> Response:
    return jsonify({"jobs_run": service_runtime().service.run_due_jobs()})


@bp.post("/faults")
def arm_crash_point() -> Response:
    """``{"crash_at": POINT, "count": N}``: the next N times a worker reaches POINT it
    dies with SIGKILL (``payments/crash_points.py``), for fault tests."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise InvalidRequest('Send a JSON object: {"crash_at": POINT, "count": N}.')
    rt = service_runtime()
    count = _number(body.get("count", 1), "count")
    if not 1 <= count <= MAX_CRASH_COUNT or count != int(count):
        raise InvalidRequest(f"count must be a whole number from 1 to {MAX_CRASH_COUNT}.")
    try:
        armed = rt.controls.arm_crash_point(str(body.get("crash_at")), int(count))
    except (TypeError, ValueError) as error:
        raise InvalidRequest(str(error)) from None
    return jsonify({"armed": armed})


@bp.post("/reset")
def reset() -> Response:
    """Forget every win, payment, order, event, job, mail, text and fraud signal (users
    and the webhook endpoint stay): a test harness's clean slate between scenarios, in
    milliseconds."""
    rt = service_runtime()
    cleared = rt.controls.clear_records()
    rt.service.schedule_upkeep()
    return jsonify({"reset": True, "rows_deleted": cleared})
