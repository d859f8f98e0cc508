"""What the dashboard's buttons do. Each is the control plane's operation
(``control/routes.py``), called with a typed request: the same clock jump, reset,
snapshot, fault and resend a test gets from ``/_sandbox``."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from simulator.sandbox import timeline, webhooks
from simulator.sandbox.control import operations
from simulator.sandbox.control.operations import reset_sandbox as reset_sandbox
from simulator.sandbox.errors import InvalidRequestError, NotFoundError
from simulator.sandbox.faults import ACTIONS, Fault
from simulator.sandbox.resources.base import Ctx
from simulator.sandbox.runtime import Runtime
from simulator.sandbox.webhooks import outbox

CLOCK_STEPS = (3_600, 6 * 3_600, 24 * 3_600)  # the +1 h, +6 h, +24 h buttons
MAX_ADVANCE_SECONDS = 5 * 366 * 24 * 3600  # as POST /_sandbox/clock/advance
MAX_FAULT_COUNT = 1_000
MAX_FAULT_DELAY_MS = 60_000
_SNAPSHOT_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


@dataclass(frozen=True)
class FaultRequest:
    """The next ``count`` requests matching ``method`` and ``path`` (a glob) fail as
    ``action`` says (``faults.py``)."""

    method: str = "*"
    path: str = "/v1/*"
    action: str = "error"
    count: int = 1
    status: int = 500
    retry_after: int = 1
    delay_ms: int = 0


# One-click switches for demos: what a presenter usually wants to show.
FAULT_SWITCHES: dict[str, tuple[str, FaultRequest]] = {
    "api_errors": ("Next 3 API requests answer 500",
                   FaultRequest(count=3)),
    "rate_limit": ("Next API request is rate-limited (429)",
                   FaultRequest(action="rate_limit")),
    "checkout_down": ("Next 3 Checkout Session creations fail",
                      FaultRequest(method="POST", path="/v1/checkout/sessions", count=3)),
    "slow_api": ("Next 5 API requests take 3 s",
                 FaultRequest(action="delay", count=5, delay_ms=3_000)),
    "drop_confirm": ("Next PaymentIntent confirmation loses its connection",
                     FaultRequest(method="POST", path="/v1/payment_intents/*/confirm",
                                  action="drop")),
}


def advance_clock(rt: Runtime, seconds: int, base_url: str) -> timeline.Jump:
    """Move the one time forward exactly as ``POST /_sandbox/clock/advance`` does: in
    steps through every due moment, the followers (a payment service) first, then the
    sandbox's jobs and its webhooks, delivered before answering."""
    if seconds <= 0 or seconds > MAX_ADVANCE_SECONDS:
        raise InvalidRequestError(
            f"seconds must be between 1 and {MAX_ADVANCE_SECONDS} (5 years).", param="seconds")
    return operations.advance_clock(rt, seconds, base_url)


def snapshot_path(rt: Runtime, name: str) -> Path:
    """Where ``/_sandbox/snapshots/<name>`` keeps a snapshot, so either side restores
    what the other saved."""
    if not _SNAPSHOT_NAME.match(name):
        raise InvalidRequestError(
            "A snapshot name is 1 to 64 letters, digits, '.', '_' or '-'.", param="name")
    folder = rt.config.snapshot_dir or f"{rt.store.path}.snapshots"
    return Path(folder) / f"{name}.sqlite3"


def list_snapshots(rt: Runtime) -> list[str]:
    folder = Path(rt.config.snapshot_dir or f"{rt.store.path}.snapshots")
    return sorted(p.stem for p in folder.glob("*.sqlite3")) if folder.exists() else []


def save_snapshot(rt: Runtime, name: str) -> None:
    rt.store.save_snapshot(str(snapshot_path(rt, name)))


def restore_snapshot(rt: Runtime, name: str) -> None:
    path = snapshot_path(rt, name)
    if not path.exists():
        raise NotFoundError(f"No such snapshot: '{name}'", param="name", code="resource_missing")
    rt.store.restore_snapshot(str(path))


def add_fault(rt: Runtime, fault: FaultRequest) -> Fault:
    _check_fault(fault)
    return rt.faults.add(method=fault.method, path=fault.path, action=fault.action,
                         count=fault.count, status=fault.status,
                         retry_after=fault.retry_after, delay_ms=fault.delay_ms)


def _check_fault(fault: FaultRequest) -> None:
    if fault.action not in ACTIONS:
        raise InvalidRequestError(f"Invalid action: must be one of {', '.join(ACTIONS)}",
                                  param="action")
    if fault.method not in ("*", "GET", "POST", "DELETE"):
        raise InvalidRequestError("Invalid method: must be one of *, GET, POST, DELETE",
                                  param="method")
    if not fault.path.startswith("/"):
        raise InvalidRequestError("path must start with / (a glob such as /v1/*).",
                                  param="path")
    if not 1 <= fault.count <= MAX_FAULT_COUNT:
        raise InvalidRequestError(f"count must be between 1 and {MAX_FAULT_COUNT}.",
                                  param="count")
    if not 400 <= fault.status <= 599:
        raise InvalidRequestError("status must be an HTTP error status (400-599).",
                                  param="status")
    if not 0 <= fault.delay_ms <= MAX_FAULT_DELAY_MS:
        raise InvalidRequestError(f"delay_ms must be between 0 and {MAX_FAULT_DELAY_MS}.",
                                  param="delay_ms")


def resend_event(rt: Runtime, ctx: Ctx, event_id: str, endpoint_id: str | None) -> list[str]:
    """Fresh deliveries of an event (to one endpoint, or to every subscribed one), as
    ``POST /_sandbox/webhooks/events/<evt>/resend`` and the Dashboard's Resend do."""
    with rt.store.transaction():
        queued = outbox.resend_event(ctx, event_id, endpoint_id)
    webhooks.dispatcher_for(rt).wake()
    return queued
