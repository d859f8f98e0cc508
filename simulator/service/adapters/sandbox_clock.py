"""The service's clock following the sandbox's: one time for both.

A test-mode service running against the sandbox registers as a clock follower
(``simulator/sandbox/timeline.py``) and starts from the sandbox's offset; from then on
the sandbox tells it every move (``POST /_test/clock/sync``), and a move asked of the
service is made at the sandbox, so both always read the same time. Against real
Stripe the service's clock moves alone.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import requests

from simulator.service.adapters.control_token import clock_sync_token, control_token
from simulator.service.config import ServiceConfig

log = logging.getLogger("simulator.service.clock")
TIMEOUT_SECONDS = 10.0
# A jump steps through every due moment on both sides, each a round trip: give it time.
ADVANCE_TIMEOUT_SECONDS = 600.0


class SandboxClockUnavailable(Exception):
    pass


def follow_sandbox_clock(config: ServiceConfig, set_offset: Callable[[float], object]) -> bool:
    """Register at the sandbox and adopt its offset; False (and a warning) when the
    sandbox cannot be reached: the service then keeps its own offset until it can."""
    base = str(config.stripe_api_base)
    token = clock_sync_token(control_token(config))  # sent back on every move
    try:
        requests.post(f"{base}/_sandbox/clock/followers",
                      data={"url": config.public_url, "token": token},
                      timeout=TIMEOUT_SECONDS).raise_for_status()
        answer = requests.get(f"{base}/_sandbox/clock", timeout=TIMEOUT_SECONDS)
        answer.raise_for_status()
        set_offset(float(answer.json()["offset_seconds"]))
    except (requests.RequestException, ValueError, KeyError) as error:
        log.warning("cannot follow the sandbox's clock at %s: %s", base, error)
        return False
    return True


def unfollow_sandbox_clock(config: ServiceConfig) -> None:
    """A service that stops for good (tests starting many on one sandbox) says so."""
    try:
        requests.delete(f"{config.stripe_api_base}/_sandbox/clock/followers",
                        data={"url": config.public_url}, timeout=TIMEOUT_SECONDS)
    except requests.RequestException as error:
        log.warning("could not stop following the sandbox's clock: %s", error)


def advance_at_sandbox(config: ServiceConfig, seconds: int) -> dict[str, Any]:
    """Move the one time at the sandbox, which moves this service too, in time order."""
    try:
        answer = requests.post(f"{config.stripe_api_base}/_sandbox/clock/advance",
                               data={"seconds": seconds}, timeout=ADVANCE_TIMEOUT_SECONDS)
        body: dict[str, Any] = answer.json()
    except (requests.RequestException, ValueError) as error:
        raise SandboxClockUnavailable(str(error)) from None
    if answer.status_code != 200:
        message = (body.get("error") or {}).get("message", answer.text[:200])
        raise SandboxClockUnavailable(f"the sandbox refused: {message}")
    return body
