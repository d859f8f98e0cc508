"""A team's own code against the sandbox, as it would call Stripe: PaymentIntents
created and confirmed in one call, and Checkout Sessions, with an ``Idempotency-Key`` on
every POST as the official SDKs send one. Raw HTTP (Stripe's form encoding), so the
client costs little next to the server it measures."""

from __future__ import annotations

import random

from locust import between, task

from load.common import PlannedUser, body_of, form
from simulator.common.ids import IdGenerator

AMOUNTS = (1_999, 4_200, 12_500, 64_200)


class StripeApiClient(PlannedUser):
    weight = 2
    wait_time = between(0.05, 0.2)

    def on_start(self) -> None:
        super().on_start()
        self.ids = IdGenerator()

    @task(3)
    def create_and_confirm_payment_intent(self) -> None:
        params = {"amount": random.choice(AMOUNTS), "currency": "usd",
                  "payment_method": "pm_card_visa", "confirm": "true",
                  "automatic_payment_methods[enabled]": "true",
                  "automatic_payment_methods[allow_redirects]": "never",
                  "metadata[load_run]": self.plan.tag}
        with self.client.post(self.sandbox("/v1/payment_intents"), data=form(params),
                              headers=self.stripe_headers(self.ids.token(24)),
                              name="POST /v1/payment_intents (create+confirm)",
                              catch_response=True) as answer:
            if answer.status_code != 200:
                answer.failure(f"{answer.status_code} {body_of(answer)}")
            elif answer.json().get("status") != "succeeded":
                answer.failure(f"PaymentIntent {answer.json().get('status')}, not succeeded")

    @task(1)
    def create_checkout_session(self) -> None:
        params = {"mode": "payment", "success_url": "https://example.com/success",
                  "line_items[0][quantity]": 1,
                  "line_items[0][price_data][currency]": "usd",
                  "line_items[0][price_data][unit_amount]": random.choice(AMOUNTS),
                  "line_items[0][price_data][product_data][name]": "Load test lot",
                  "metadata[load_run]": self.plan.tag}
        with self.client.post(self.sandbox("/v1/checkout/sessions"), data=form(params),
                              headers=self.stripe_headers(self.ids.token(24)),
                              name="POST /v1/checkout/sessions",
                              catch_response=True) as answer:
            if answer.status_code != 200:
                answer.failure(f"{answer.status_code} {body_of(answer)}")
            elif not str(answer.json().get("url", "")).startswith("http"):
                answer.failure("a Checkout Session without a url")
