"""A storm of Stripe webhook deliveries to ``POST /payments/webhooks/stripe``, each about
a real payment of the service's, so it takes the real payment path (verify, store,
dedupe, dispatch, a handler that asks Stripe and records the payment).

Each round makes a real Checkout Session through the service, then pays it, declines it
or expires it at the sandbox, and sends the events that follow, signed with the
service's own secret as Stripe signs them: some in reverse order, some twice (the
second must be a ``duplicate``), and some with a bad signature (must be refused with
400 before anything is stored). The sandbox delivers its own copies of the same events
at the same time: exactly-once is tested against a real race."""

from __future__ import annotations

import json
import random
from typing import Any

from locust import between, task

from load.buyer import CARD, DECLINED_CARD, SMALL_LOTS, BuyerSteps
from load.common import body_of, form
from simulator.common.clock import system_time
from simulator.sandbox.webhooks.dispatcher import BASE_HEADERS
from simulator.sandbox.webhooks.signing import signature_header

WEBHOOK_PATH = "/payments/webhooks/stripe"
API_VERSION = "2024-06-20"
OUTCOMES = (("paid", 6), ("declined", 2), ("expired", 2))
REORDER_SHARE = 0.3
DUPLICATE_SHARE = 0.3
INVALID_SHARE = 0.1


class WebhookStorm(BuyerSteps):
    """Uses a buyer's steps to make real sessions, then storms the webhook endpoint."""

    weight = 2
    wait_time = between(0.05, 0.2)

    @task
    def storm(self) -> None:
        outcome = random.choices([o for o, _ in OUTCOMES], [w for _, w in OUTCOMES])[0]
        win_id = self.win_a_lot(random.choice(SMALL_LOTS))
        started = self.start_checkout(win_id) if win_id else None
        if started is None:
            return
        objects = self.settle_at_stripe(started[1], outcome)
        if objects is None:
            return
        events = [self.event(kind, obj) for kind, obj in objects]
        if random.random() < REORDER_SHARE:
            events.reverse()
        for event in events:
            self.deliver(event, "new")
            if random.random() < DUPLICATE_SHARE:
                self.deliver(event, "duplicate")
            if random.random() < INVALID_SHARE:
                self.deliver(event, "invalid signature")

    def settle_at_stripe(self, checkout_id: str,
                         outcome: str) -> list[tuple[str, dict[str, Any]]] | None:
        """Pay, decline or expire the session; the objects its events carry."""
        if outcome == "expired":
            return self.expire(checkout_id)
        paid = outcome == "paid"
        with self.client.post(self.sandbox(f"/_sandbox/checkout/sessions/{checkout_id}/complete"),
                              data=form({"payment_method": CARD if paid else DECLINED_CARD}),
                              headers={"Content-Type": "application/x-www-form-urlencoded"},
                              name="POST /_sandbox/checkout/sessions/[id]/complete",
                              catch_response=True) as answer:
            if answer.status_code != (200 if paid else 402):
                answer.failure(f"complete ({outcome}): {answer.status_code} {body_of(answer)}")
                return None
            answer.success()
            body = answer.json()
        if paid:
            return [("checkout.session.completed", body["checkout_session"]),
                    ("payment_intent.succeeded", body["payment_intent"])]
        return [("payment_intent.payment_failed", body["payment_intent"])]

    def expire(self, checkout_id: str) -> list[tuple[str, dict[str, Any]]] | None:
        with self.client.post(self.sandbox(f"/v1/checkout/sessions/{checkout_id}/expire"),
                              headers=self.stripe_headers(), data="",
                              name="POST /v1/checkout/sessions/[id]/expire",
                              catch_response=True) as answer:
            if answer.status_code != 200:
                answer.failure(f"expire: {answer.status_code} {body_of(answer)}")
                return None
            return [("checkout.session.expired", answer.json())]

    def event(self, kind: str, obj: dict[str, Any]) -> str:
        """An event as the sandbox's dispatcher sends it (pretty-printed JSON)."""
        now = int(system_time() + self.plan.clock_offset)
        return json.dumps({
            "id": f"evt_{self.ids.sortable(24)}", "object": "event", "api_version": API_VERSION,
            "created": now, "data": {"object": obj}, "livemode": False, "pending_webhooks": 1,
            "request": {"id": None, "idempotency_key": None}, "type": kind}, indent=2)

    def deliver(self, payload: str, kind: str) -> None:
        timestamp = int(system_time() + self.plan.clock_offset)
        secret = self.plan.webhook_secret if kind != "invalid signature" else "whsec_wrong"
        headers = {**BASE_HEADERS,
                   "Stripe-Signature": signature_header(payload, [secret], timestamp)}
        with self.client.post(WEBHOOK_PATH, data=payload, headers=headers,
                              name=f"POST {WEBHOOK_PATH} [{kind}]",
                              catch_response=True) as answer:
            _judge(answer, kind)


def _judge(answer: Any, kind: str) -> None:
    """A new event (an id of its own) must be processed; the same event again, once
    processed, is a ``duplicate``; a bad signature is refused with 400."""
    if kind == "invalid signature":
        if answer.status_code == 400:
            answer.success()
        else:
            answer.failure(f"bad signature answered {answer.status_code}, expected 400")
        return
    if answer.status_code != 200:
        answer.failure(f"{kind} event: {answer.status_code} {body_of(answer)}")
        return
    status = answer.json().get("status")
    wanted = "processed" if kind == "new" else "duplicate"
    if status != wanted:
        answer.failure(f"{kind} event answered {status!r}, expected {wanted!r}")
