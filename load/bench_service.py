"""The payment service's benchmark loads (``stripe-sim bench service``), one user class
per load, closed loop (no think time), each answer judged:

- ``CheckoutCreate``: ``POST /payments/checkout/create``; ``new`` takes the next win
  nobody has paid for (a Checkout Session created at the sandbox each time, 201);
  ``repeat`` asks again for wins that have one (the double click: 200, nothing made).
- ``WebhookDelivery``: ``POST /payments/webhooks/stripe``, signed as Stripe signs, each a
  ``checkout.session.completed`` about one of the service's real paid sessions: a new
  event id runs the real path (verify, store, dispatch, a handler that finds the payment
  recorded); a share are re-deliveries of events already processed (duplicates). The
  same calls go to a bare Flask endpoint served the same way, for the ratio.

The plan comes from ``simulator.bench.service`` through ``STRIPE_SIM_BENCH_PLAN``."""

from __future__ import annotations

import itertools
import json
import random
from functools import cache
from typing import Any

from locust import FastHttpUser, constant, task
from locust.env import Environment
from locust.exception import StopUser

import load.bench_hooks  # noqa: F401 (the plan's option and a quiet summary)
from simulator.common.clock import system_time
from simulator.common.ids import IdGenerator
from simulator.sandbox.webhooks.dispatcher import BASE_HEADERS
from simulator.sandbox.webhooks.signing import signature_header

CHECKOUT_PATH = "/payments/checkout/create"
WEBHOOK_PATH = "/payments/webhooks/stripe"
_next_win = itertools.count()


@cache
def _parse(text: str) -> dict[str, Any]:
    """The plan's JSON, or ``@PATH`` of a file holding it (too big for the environment)."""
    if text.startswith("@"):
        with open(text[1:]) as handle:
            text = handle.read()
    plan: dict[str, Any] = json.loads(text)
    return plan


def plan_of(environment: Environment) -> dict[str, Any]:
    return _parse(getattr(environment.parsed_options, "stripe_sim_bench", "{}"))


class CheckoutCreate(FastHttpUser):
    wait_time = constant(0)
    host = "http://127.0.0.1"

    def on_start(self) -> None:
        self.plan = plan_of(self.environment)

    @task
    def create(self) -> None:
        wins = self.plan["wins"]
        if self.plan["mode"] == "new":
            index = next(_next_win)
            if index >= len(wins):
                raise StopUser()  # every win has its session: the load ends early
            expected = 201
        else:
            index, expected = random.randrange(len(wins)), 200
        win_id, token = wins[index]
        with self.client.post(CHECKOUT_PATH, json={"auction_id": win_id},
                              headers={"Authorization": f"Bearer {token}"},
                              name=f"checkout create [{self.plan['mode']}]",
                              catch_response=True) as answer:
            if answer.status_code != expected:
                answer.failure(f"{answer.status_code} (expected {expected}):"
                               f" {body_of(answer)}")


class WebhookDelivery(FastHttpUser):
    wait_time = constant(0)
    host = "http://127.0.0.1"

    def on_start(self) -> None:
        self.plan = plan_of(self.environment)
        self.ids = IdGenerator()

    @task
    def deliver(self) -> None:
        duplicate = random.random() < self.plan["duplicate_share"]
        payload = (json.dumps(random.choice(self.plan["objects"]), indent=2) if duplicate
                   else self.new_event())
        timestamp = int(system_time() + self.plan["clock_offset"])
        headers = {**BASE_HEADERS, "Stripe-Signature": signature_header(
            payload, [self.plan["secret"]], timestamp)}
        kind = "duplicate" if duplicate else "new"
        with self.client.post(WEBHOOK_PATH, data=payload, headers=headers,
                              name=f"webhook [{kind}]", catch_response=True) as answer:
            if answer.status_code != 200:
                answer.failure(f"{answer.status_code}: {body_of(answer)}")
            elif self.plan["judge"] and answer.json().get("status") != (
                    "duplicate" if duplicate else "processed"):
                answer.failure(f"{kind} event answered {body_of(answer)}")

    def new_event(self) -> str:
        event = random.choice(self.plan["objects"])
        return json.dumps({**event, "id": f"{self.plan['prefix']}{self.ids.sortable(20)}",
                           "created": int(system_time() + self.plan["clock_offset"])}, indent=2)


def body_of(answer: Any) -> str:
    return (answer.text or "")[:200]
