"""The control plane's operations, shared by ``/_sandbox`` (``control/routes.py``) and
the dashboard's buttons (``dashboard/controls.py``): each edge reads and checks its own
input, then both move the clock and reset the sandbox the same way."""

from __future__ import annotations

from simulator.sandbox import account, timeline, webhooks
from simulator.sandbox.runtime import Runtime


def advance_clock(rt: Runtime, seconds: int, base_url: str) -> timeline.Jump:
    """Move the one time forward in steps through every due moment (``timeline.py``):
    the followers (a payment service) first, then the sandbox's jobs and its webhooks,
    delivered before answering, so tests never sleep."""
    dispatcher = webhooks.dispatcher_for(rt)

    def run_here() -> tuple[int, int]:
        ran = rt.run_due_jobs(base_url)
        return ran, dispatcher.drain().delivered

    return timeline.advance(rt, seconds, run_here)


def reset_sandbox(rt: Runtime) -> None:
    """Forget every object, delivery, fault and clock offset (``POST /_sandbox/reset``)."""
    rt.store.reset()
    account.configure(rt.store, rt.config.default_api_version)
    webhooks.reset(rt)
    rt.faults.clear()
