"""The sandbox's own speed against a bare endpoint: closed-loop create-and-confirm
PaymentIntents (``POST /v1/payment_intents`` with ``confirm=true``), the issue's yardstick
workload. Point it at the sandbox and at ``python -m simulator.bench.bare_flask`` (which
answers any ``/v1/…`` POST with 200), served the same way, and compare requests/s:

    locust -f load/bench_sandbox.py --headless -u 8 -r 8 -t 10s --host http://127.0.0.1:12111
"""

from __future__ import annotations

from locust import FastHttpUser, constant, task

from simulator.common.ids import IdGenerator

BODY = ("amount=2000&currency=usd&payment_method=pm_card_visa&confirm=true"
        "&automatic_payment_methods[enabled]=true"
        "&automatic_payment_methods[allow_redirects]=never")


class CreateConfirm(FastHttpUser):
    wait_time = constant(0)
    host = "http://127.0.0.1:12111"

    def on_start(self) -> None:
        self.ids = IdGenerator()

    @task
    def create_and_confirm(self) -> None:
        with self.client.post("/v1/payment_intents", data=BODY, name="create+confirm PI",
                              headers={"Authorization": "Bearer sk_test_bench",
                                       "Content-Type": "application/x-www-form-urlencoded",
                                       "Idempotency-Key": self.ids.token(24)},
                              catch_response=True) as answer:
            if answer.status_code != 200:
                answer.failure(f"{answer.status_code}: {(answer.text or '')[:200]}")
