"""/_sandbox routes. They are not Stripe's API: they move the sandbox's time, reset and
snapshot its state and inject faults, for tests and demos."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from flask import Blueprint, request

from simulator.sandbox import account, timeline
from simulator.sandbox.api.endpoint import json_response, runtime
from simulator.sandbox.control import operations
from simulator.sandbox.errors import InvalidRequestError, NotFoundError
from simulator.sandbox.faults import ACTIONS
from simulator.sandbox.runtime import CLOCK_OFFSET_KEY

bp = Blueprint("control", __name__, url_prefix="/_sandbox")
MAX_ADVANCE_SECONDS = 5 * 366 * 24 * 3600
_SNAPSHOT_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


def _arg(name: str, default: str | None = None) -> str | None:
    if request.is_json and isinstance(request.json, dict) and name in request.json:
        return str(request.json[name])
    return request.values.get(name, default)


def _int_arg(name: str, default: int | None = None) -> int:
    raw = _arg(name)
    if raw is None:
        if default is None:
            raise InvalidRequestError(f"Missing required param: {name}.", param=name,
                                      code="parameter_missing")
        return default
    try:
        return int(float(raw))
    except (ValueError, OverflowError):  # not a number, NaN, or infinite
        raise InvalidRequestError(f"Invalid integer: {raw}", param=name,
                                  code="parameter_invalid_integer") from None


@bp.get("/health")
def health() -> Any:
    rt = runtime()
    rt.store.conn.execute("SELECT 1").fetchone()
    return json_response({"status": "ok", "time": rt.clock.timestamp()})


@bp.post("/reset")
def reset() -> Any:
    rt = runtime()
    operations.reset_sandbox(rt)
    return json_response({"reset": True, "time": rt.clock.timestamp()})


@bp.get("/account")
def show_account() -> Any:
    rt = runtime()
    return json_response(account.settings(rt.store, rt.config.merchant_name))


@bp.post("/account")
def update_account() -> Any:
    """``default_api_version``: what requests without ``Stripe-Version`` get, and the
    version new events are rendered in."""
    version = _arg("default_api_version")
    if not version:
        raise InvalidRequestError("Missing required param: default_api_version.",
                                  param="default_api_version", code="parameter_missing")
    rt = runtime()
    account.set_default_api_version(rt.store, version)
    return json_response(account.settings(rt.store, rt.config.merchant_name))


def _snapshot_path(name: str) -> str:
    if not _SNAPSHOT_NAME.match(name):
        raise InvalidRequestError(f"Invalid snapshot name: {name}", param="name")
    rt = runtime()
    folder = rt.config.snapshot_dir or f"{rt.store.path}.snapshots"
    return str(Path(folder) / f"{name}.sqlite3")


@bp.post("/snapshots/<name>")
def save_snapshot(name: str) -> Any:
    runtime().store.save_snapshot(_snapshot_path(name))
    return json_response({"snapshot": name, "saved": True})


@bp.post("/snapshots/<name>/restore")
def restore_snapshot(name: str) -> Any:
    path = _snapshot_path(name)
    if not Path(path).exists():
        raise NotFoundError(f"No such snapshot: '{name}'", param="name", code="resource_missing")
    runtime().store.restore_snapshot(path)
    return json_response({"snapshot": name, "restored": True})


@bp.get("/snapshots")
def list_snapshots() -> Any:
    folder = Path(_snapshot_path("x")).parent
    names = sorted(p.stem for p in folder.glob("*.sqlite3")) if folder.exists() else []
    return json_response({"snapshots": names})


@bp.get("/clock")
def show_clock() -> Any:
    return json_response(_clock_body())


def _clock_body() -> dict[str, Any]:
    rt = runtime()
    return {
        "now": rt.clock.timestamp(),
        "now_float": rt.clock.now(),
        "offset_seconds": float(rt.store.get_meta(CLOCK_OFFSET_KEY, "0") or 0),
        "iso": rt.clock.datetime().isoformat(),
        "followers": timeline.followers(rt),
    }


@bp.post("/clock/advance")
def advance_clock() -> Any:
    """Move the one time forward: the sandbox's clock and its followers' (a payment
    service running against it), in steps, so due work on both sides runs in time order
    (``timeline.py``). Webhooks that came due are sent before answering: tests never
    sleep."""
    seconds = _int_arg("seconds")
    if seconds < 0:
        raise InvalidRequestError("The sandbox clock only moves forward.", param="seconds")
    if seconds > MAX_ADVANCE_SECONDS:
        raise InvalidRequestError(
            f"seconds must be at most {MAX_ADVANCE_SECONDS} (5 years).", param="seconds")
    rt = runtime()
    jump = operations.advance_clock(rt, seconds, rt.public_url(request.host_url))
    return json_response({**_clock_body(), "jobs_run": jump.jobs_run,
                          "webhooks": {"delivered": jump.webhooks_delivered},
                          "steps": jump.steps, "followers": timeline.followers(rt),
                          "followers_unreachable": jump.unreachable})


@bp.post("/clock/followers")
def add_clock_follower() -> Any:
    """``url``: a server whose clock moves with the sandbox's (``timeline.py``);
    ``token``: what to send it back in ``X-Test-Token`` with each move."""
    url = _arg("url")
    if not url or not url.startswith(("http://", "https://")):
        raise InvalidRequestError("url must be an http(s) URL.", param="url")
    return json_response({"followers": timeline.add_follower(runtime(), url, _arg("token"))})


@bp.delete("/clock/followers")
def remove_clock_follower() -> Any:
    return json_response({"followers": timeline.remove_follower(runtime(), _arg("url") or "")})


@bp.post("/jobs/run")
def run_jobs() -> Any:
    rt = runtime()
    return json_response({"jobs_run": rt.run_due_jobs(rt.public_url(request.host_url))})


@bp.get("/faults")
def list_faults() -> Any:
    return json_response({"faults": runtime().faults.list()})


@bp.post("/faults")
def add_fault() -> Any:
    action = _arg("action", "error") or "error"
    if action not in ACTIONS:
        raise InvalidRequestError(
            f"Invalid action: must be one of {', '.join(ACTIONS)}", param="action"
        )
    fault = runtime().faults.add(
        method=_arg("method", "*") or "*",
        path=_arg("path", "/v1/*") or "/v1/*",
        action=action,
        count=_int_arg("count", 1),
        status=_int_arg("status", 500),
        retry_after=_int_arg("retry_after", 1),
        delay_ms=_int_arg("delay_ms", 0),
    )
    return json_response({"fault": fault.__dict__})


@bp.delete("/faults")
def clear_faults() -> Any:
    runtime().faults.clear()
    return json_response({"faults": []})


@bp.get("/logs/<request_id>")
def request_log(request_id: str) -> Any:
    entry = runtime().request_log(request_id)
    if entry is None:
        raise NotFoundError(f"No such request: '{request_id}'", param="id", code="resource_missing")
    return json_response(entry)
