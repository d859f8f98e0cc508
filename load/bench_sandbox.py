"""The loads of ``stripe-sim bench sandbox`` and ``stripe-sim bench webhooks``: closed
loop (no think time), one user class per workload, each POST with its own
``Idempotency-Key`` as the official SDKs send it. Bodies are pre-encoded form strings
and answers are judged by their status only, so the client costs little next to the
server it measures, which shares the machine's cores with it. Any server that speaks
Stripe's API can be measured (the sandbox, stripe-mock, localstripe, or the bare Flask
yardstick that answers every ``/v1/…`` request with 200).

- ``CreateCustomer``: ``POST /v1/customers``;
- ``CreateConfirmPaymentIntent``: ``POST /v1/payment_intents`` with ``confirm=true``,
  the issue's yardstick workload;
- ``CreateCheckoutSession``: ``POST /v1/checkout/sessions``;
- ``RetrieveCustomer``: ``GET /v1/customers/{id}`` over customers made beforehand;
- ``EventSource``: the webhook benchmark's events: each created object's id and the
  moment its request was sent are written to the plan's ``sent_log``, so the bench
  can time each webhook from that moment to its verified arrival.

The plan comes from ``simulator.bench.sandbox`` through ``STRIPE_SIM_BENCH_PLAN``.

    locust -f load/bench_sandbox.py --headless -u 8 -r 8 -t 10s \\
        --host http://127.0.0.1:12111 CreateConfirmPaymentIntent
"""

from __future__ import annotations

import itertools
import json
import os
from functools import cache
from typing import IO, Any

import gevent
from locust import FastHttpUser, constant, events, task
from locust.env import Environment
from locust.exception import StopUser

import load.bench_hooks  # noqa: F401 (the plan's option and a quiet summary)
from load.progress import report_progress
from simulator.common.clock import monotonic
from simulator.common.ids import IdGenerator

API_VERSION = "2026-10-28.endive"
USER_AGENT = "Stripe/v1 PythonBindings/16.1.0 (stripe-sim bench)"
CUSTOMER_FORM = "email=bidder%40example.com&name=Bidder&metadata[paddle]=17"
PAYMENT_INTENT_FORM = ("amount=2000&currency=usd&payment_method=pm_card_visa&confirm=true"
                       "&automatic_payment_methods[enabled]=true"
                       "&automatic_payment_methods[allow_redirects]=never")
CHECKOUT_FORM = ("mode=payment&success_url=https%3A%2F%2Fexample.com%2Fsuccess"
                 "&line_items[0][price_data][currency]=usd"
                 "&line_items[0][price_data][unit_amount]=1000"
                 "&line_items[0][price_data][product_data][name]=Lot&line_items[0][quantity]=1")
# What ``EventSource`` creates for each webhook source: (path, form).
EVENT_SOURCES = {"payment": ("/v1/payment_intents", PAYMENT_INTENT_FORM),
                 "customer": ("/v1/customers", CUSTOMER_FORM)}
_made = itertools.count()  # objects EventSource users of this process began to create


@events.test_start.add_listener
def _start_progress(environment: Environment, **_: Any) -> None:
    gevent.spawn(report_progress, environment, "bench")


@cache
def _parse(text: str) -> dict[str, Any]:
    """The plan's JSON, or ``@PATH`` of a file holding it."""
    if text.startswith("@"):
        with open(text[1:]) as handle:
            text = handle.read()
    plan: dict[str, Any] = json.loads(text)
    return plan


class StripeClient(FastHttpUser):
    """A keep-alive client with the SDK's headers; ``host`` is the server measured."""

    abstract = True
    wait_time = constant(0)
    host = "http://127.0.0.1:12111"

    def on_start(self) -> None:
        self.plan = _parse(getattr(self.environment.parsed_options, "stripe_sim_bench", "{}"))
        self.ids = IdGenerator()
        self.headers = {"Authorization": f"Bearer {self.plan.get('api_key', 'sk_test_bench')}",
                        "Stripe-Version": API_VERSION, "User-Agent": USER_AGENT}

    def post(self, path: str, body: str, name: str) -> Any:
        """The answer's JSON when it is a 200 (else a failure is recorded, None)."""
        headers = {**self.headers, "Content-Type": "application/x-www-form-urlencoded",
                   "Idempotency-Key": self.ids.token(24)}
        with self.client.post(path, data=body, headers=headers, name=name,
                              catch_response=True) as answer:
            if answer.status_code != 200:
                answer.failure(f"{answer.status_code}: {(answer.text or '')[:200]}")
                return None
            return answer


class CreateCustomer(StripeClient):
    @task
    def create(self) -> None:
        self.post("/v1/customers", CUSTOMER_FORM, "create-customer")


class CreateConfirmPaymentIntent(StripeClient):
    @task
    def create_and_confirm(self) -> None:
        self.post("/v1/payment_intents", PAYMENT_INTENT_FORM, "create-confirm-pi")


class CreateCheckoutSession(StripeClient):
    @task
    def create(self) -> None:
        self.post("/v1/checkout/sessions", CHECKOUT_FORM, "create-checkout")


class RetrieveCustomer(StripeClient):
    def on_start(self) -> None:
        super().on_start()
        self.customers: list[str] = list(self.plan["ids"])
        self.turn = 0

    @task
    def retrieve(self) -> None:
        self.turn += 1
        customer = self.customers[self.turn % len(self.customers)]
        with self.client.get(f"/v1/customers/{customer}", headers=self.headers,
                             name="retrieve", catch_response=True) as answer:
            if answer.status_code != 200:
                answer.failure(f"{answer.status_code}: {(answer.text or '')[:200]}")


class EventSource(StripeClient):
    """Creates the objects whose events the webhook benchmark times."""

    def on_start(self) -> None:
        super().on_start()
        self.path, self.form = EVENT_SOURCES[self.plan["source"]]
        self.log: IO[str] = open(self.plan["sent_log"], "a", buffering=1)  # noqa: SIM115

    def on_stop(self) -> None:
        self.log.close()

    @task
    def create(self) -> None:
        if next(_made) >= self.plan["events"]:
            if self.environment.runner is not None:
                # Enough events: the load is over. Quit from a greenlet of its own, since
                # quitting stops every user, this one included, mid-call.
                gevent.spawn(self.environment.runner.quit)
            raise StopUser()
        sent = monotonic()  # CLOCK_MONOTONIC: the same clock in every process on Linux
        answer = self.post(self.path, self.form, f"create ({self.plan['source']})")
        if answer is not None:
            self.log.write(f"{answer.json()['id']} {sent!r} {os.getpid()}\n")
