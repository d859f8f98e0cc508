"""What every benchmark locustfile shares: the plan's command-line option and a quiet
Locust summary. Importing this module registers both listeners, once per process."""

from __future__ import annotations

import logging
from typing import Any

from locust import events
from locust.env import Environment


@events.init_command_line_parser.add_listener
def _plan_argument(parser: Any) -> None:
    parser.add_argument("--stripe-sim-bench", env_var="STRIPE_SIM_BENCH_PLAN", default="{}",
                        include_in_web_ui=False, help="the benchmark's plan (JSON)")


@events.init.add_listener
def _quiet_summary(environment: Environment, **_: Any) -> None:
    """The benchmark prints its own table; Locust's would say it twice."""
    logging.getLogger("locust.stats_logger").disabled = True
