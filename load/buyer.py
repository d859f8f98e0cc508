"""The buyer: wins a lot (the auction system records the win), starts Stripe Checkout
through the service's API with their API token, follows the payment's status and pays
through the sandbox's headless completion, as a browser on the hosted page would.

Most pay at once with a card that works; some are declined first and retry; lots over
$500 need 3-D Secure (the service asks for it above its threshold, and the card asks
for it anyway). Most come back through Stripe's redirect (``success_url``), some close
the tab and leave it to the webhook. Each payment's time until its receipt is ready is
reported as its own row."""

from __future__ import annotations

import random
from typing import Any

import gevent
from locust import between, task

from load.common import (
    POLL_SECONDS,
    RECEIPT_READY,
    RECEIPT_TIMEOUT_SECONDS,
    PlannedUser,
    Unexpected,
    body_of,
    form,
)
from simulator.common.clock import monotonic, system_time
from simulator.common.ids import IdGenerator

CARD = "pm_card_visa"
DECLINED_CARD = "pm_card_visa_chargeDeclinedInsufficientFunds"
THREE_D_SECURE_CARD = "pm_card_authenticationRequired"
# (scenario, weight): what share of buyers meet what.
SCENARIOS = (("card", 6), ("declined then retried", 2), ("over $500 with 3-D Secure", 2))
RETURN_SHARE = 0.7  # the rest close the tab after paying: only the webhook tells
SMALL_LOTS = (2_500, 12_000, 38_000, 45_000)  # cents, under the 3-D Secure threshold
LARGE_LOTS = (64_200, 120_000)  # over $500


class BuyerSteps(PlannedUser):
    """A buyer's requests, for the personas that need real sessions."""

    abstract = True

    def on_start(self) -> None:
        super().on_start()
        self.me = random.choice(self.plan.buyers)
        self.ids = IdGenerator()
        self.auth = {"Authorization": f"Bearer {self.me.token}"}

    def win_a_lot(self, amount: int) -> str | None:
        """What the auction system sends when the auction ends (``POST /payments/wins``)."""
        win_id = f"load-{self.plan.tag}-{self.ids.token(12)}"
        body = {"auction_id": win_id, "lot": random.randint(1, 500), "title": "Load test lot",
                "seller_id": "sel_load", "buyer_id": self.me.id, "amount": amount,
                "currency": "usd", "ended_at": int(system_time() + self.plan.clock_offset) - 60}
        with self.client.post("/payments/wins", json=body, name="POST /payments/wins",
                              headers={"Authorization": f"Bearer {self.plan.auction_token}"},
                              catch_response=True) as answer:
            if answer.status_code != 201:
                answer.failure(f"win not recorded: {answer.status_code} {body_of(answer)}")
                return None
        return win_id

    def start_checkout(self, win_id: str) -> tuple[str, str] | None:
        with self.client.post("/payments/checkout/create", json={"auction_id": win_id},
                              headers=self.auth, name="POST /payments/checkout/create",
                              catch_response=True) as answer:
            return _started(answer, (201,))

    def status(self, session_id: str) -> dict[str, Any] | None:
        with self.client.get(f"/payments/checkout/{session_id}/status", headers=self.auth,
                             name="GET /payments/checkout/[id]/status",
                             catch_response=True) as answer:
            if answer.status_code != 200:
                answer.failure(f"status: {answer.status_code} {body_of(answer)}")
                return None
            body: dict[str, Any] = answer.json()
            return body

    def complete(self, checkout_id: str, card: str, *, expect_paid: bool) -> bool:
        """The hosted page's payment without a browser; 3-D Secure is authenticated."""
        with self.client.post(self.sandbox(f"/_sandbox/checkout/sessions/{checkout_id}/complete"),
                              data=form({"payment_method": card,
                                         "three_d_secure": "authenticate"}),
                              headers={"Content-Type": "application/x-www-form-urlencoded"},
                              name="POST /_sandbox/checkout/sessions/[id]/complete",
                              catch_response=True) as answer:
            wanted = 200 if expect_paid else 402
            if answer.status_code != wanted:
                answer.failure(f"complete with {card}: {answer.status_code}, expected {wanted}:"
                               f" {body_of(answer)}")
                return False
            answer.success()  # a 402 for a declined card is what was asked for
        return True

    def decline_then_retry(self, session_id: str, checkout_id: str) -> tuple[str, str] | None:
        """Declined; the service hears of it from the webhook and the buyer sees why;
        then a new attempt through the API (a new Checkout Session)."""
        if not self.complete(checkout_id, DECLINED_CARD, expect_paid=False):
            return None
        if self.follow(session_id, lambda body: body["status"] == "failed",
                       "the decline never reached the service") is None:
            return None
        with self.client.post(f"/payments/retry/{session_id}", json={}, headers=self.auth,
                              name="POST /payments/retry/[id]", catch_response=True) as answer:
            return _started(answer, (201,))

    def come_back(self, checkout_id: str) -> None:
        """Stripe's redirect to ``success_url``: the service asks Stripe at once."""
        with self.client.get(f"/payments/return?session_id={checkout_id}", headers=self.auth,
                             allow_redirects=False, name="GET /payments/return",
                             catch_response=True) as answer:
            if answer.status_code != 303:
                answer.failure(f"return: {answer.status_code} {body_of(answer)}")

    def wait_for_receipt(self, session_id: str, paid_at: float) -> None:
        body = self.follow(session_id, lambda b: bool(b.get("receipt_url")),
                           "no receipt", report_from=paid_at)
        if body is not None and body["status"] != "succeeded":
            self.record_timing(RECEIPT_READY, 0, Unexpected(f"receipt for a {body['status']}"
                                                            " payment"))

    def follow(self, session_id: str, done: Any, failure: str,
               report_from: float | None = None) -> dict[str, Any] | None:
        """Poll the status until ``done``; with ``report_from``, the time it took is
        reported as the receipt latency (or as a failure after the timeout)."""
        deadline = monotonic() + RECEIPT_TIMEOUT_SECONDS
        while monotonic() < deadline:
            body = self.status(session_id)
            if body is None:
                return None
            if done(body):
                if report_from is not None:
                    self.record_timing(RECEIPT_READY, (monotonic() - report_from) * 1000)
                return body
            gevent.sleep(POLL_SECONDS)
        self.record_timing(RECEIPT_READY if report_from is not None else "status followed",
                           RECEIPT_TIMEOUT_SECONDS * 1000,
                           Unexpected(f"{failure} after {RECEIPT_TIMEOUT_SECONDS:g} s"))
        return None


class Buyer(BuyerSteps):
    weight = 4
    wait_time = between(0.1, 0.5)

    @task
    def pay_for_a_won_lot(self) -> None:
        scenario = random.choices([s for s, _ in SCENARIOS], [w for _, w in SCENARIOS])[0]
        large = scenario.startswith("over")
        win_id = self.win_a_lot(random.choice(LARGE_LOTS if large else SMALL_LOTS))
        if win_id is None:
            return
        started = self.start_checkout(win_id)
        if started is None:
            return
        session_id, checkout_id = started
        self.status(session_id)
        if scenario.startswith("declined"):
            retried = self.decline_then_retry(session_id, checkout_id)
            if retried is None:
                return
            session_id, checkout_id = retried
        card = THREE_D_SECURE_CARD if large else CARD
        if not self.complete(checkout_id, card, expect_paid=True):
            return
        paid_at = monotonic()
        if random.random() < RETURN_SHARE:
            self.come_back(checkout_id)
        self.wait_for_receipt(session_id, paid_at)


def _started(answer: Any, statuses: tuple[int, ...]) -> tuple[str, str] | None:
    if answer.status_code not in statuses:
        answer.failure(f"checkout: {answer.status_code} {body_of(answer)}")
        return None
    body = answer.json()
    url = body.get("checkout_url") or ""
    checkout_id = url.rstrip("/").rsplit("/", 1)[-1].split("#")[0]
    if not checkout_id.startswith("cs_"):
        answer.failure(f"no Checkout Session in {body}")
        return None
    return str(body["payment_session_id"]), checkout_id
