"""What every persona shares: the run's plan (``simulator.bench.load_plan``), an
abstract user with the service's and the sandbox's addresses, and a one-line progress
report every few seconds on the process that owns the run (local or master)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from functools import cache
from typing import Any
from urllib.parse import urlencode

import gevent
from locust import FastHttpUser, events
from locust.env import Environment

from load.progress import report_progress
from simulator.bench.load_plan import PLAN_VARIABLE, LoadPlan

# How long a buyer waits for the service to learn of a payment and issue its receipt
# before the run counts it as a failure (the story's bar is 5 s).
RECEIPT_TIMEOUT_SECONDS = 15.0
POLL_SECONDS = 0.025
RECEIPT_READY = "payment -> receipt ready"


@events.init_command_line_parser.add_listener
def _plan_argument(parser: Any) -> None:
    parser.add_argument("--stripe-sim-plan", env_var=PLAN_VARIABLE, default="",
                        include_in_web_ui=False,
                        help="the load plan stripe-sim load made (JSON)")


@cache
def _parse(text: str) -> LoadPlan:
    return LoadPlan.from_json(text)


def plan_of(environment: Environment) -> LoadPlan:
    text = getattr(environment.parsed_options, "stripe_sim_plan", "")
    if not text:
        raise RuntimeError("no load plan: run this through `stripe-sim load`")
    return _parse(text)


class PlannedUser(FastHttpUser):
    """A user that knows the run's plan; ``host`` is the payment service."""

    abstract = True
    host = "http://127.0.0.1"

    def on_start(self) -> None:
        self.plan = plan_of(self.environment)
        self.host = self.plan.service_url

    def sandbox(self, path: str) -> str:
        return f"{self.plan.sandbox_url}{path}"

    def stripe_headers(self, idempotency_key: str | None = None) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {self.plan.api_key}",
                   "Content-Type": "application/x-www-form-urlencoded"}
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        return headers

    def record_timing(self, name: str, milliseconds: float,
                      failure: Exception | None = None) -> None:
        """A figure that is not one request (e.g. payment to receipt), in Locust's stats."""
        self.environment.events.request.fire(
            request_type="RECEIPT", name=name, response_time=milliseconds,
            response_length=0, exception=failure, context={})


def form(params: Mapping[str, Any]) -> str:
    """A form body in Stripe's bracket syntax (already flattened by the caller)."""
    return urlencode({key: str(value) for key, value in params.items()})


def body_of(answer: Any) -> str:
    """The start of an answer's body, for a failure's message (none when the
    connection failed)."""
    return (answer.text or "")[:200]


class Unexpected(Exception):
    """An answer the persona did not expect (its message says what and why)."""


@events.init.add_listener
def _quiet_summary(environment: Environment, **_: Any) -> None:
    """``stripe-sim load`` prints its own table with the budgets; Locust's console
    tables would say it twice (the CSV and HTML files keep every percentile)."""
    if getattr(environment.parsed_options, "stripe_sim_plan", ""):
        logging.getLogger("locust.stats_logger").disabled = True


@events.test_start.add_listener
def _start_progress(environment: Environment, **_: Any) -> None:
    gevent.spawn(report_progress, environment, "load")
