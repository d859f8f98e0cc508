"""Webhooks: Stripe's signed deliveries as they really arrive (forged, replayed, stale,
tampered, twice, out of order, to a service that dies half-way) and what the marketplace
records from them: exactly one order per paid lot, nothing from a delivery it refused.

Buyers pay headlessly here (the service's API, then the sandbox's ``complete``), so
the payment is learned from Stripe's webhooks alone, never from the buyer's return to
the site. https://docs.stripe.com/webhooks#verify-events,
https://docs.stripe.com/webhooks#handle-duplicate-events
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import requests
from pytest_bdd import given, parsers, then, when

from harness.clock import HarnessClock, parse_duration
from harness.data import DataBuilder
from harness.marketplace import Marketplace, WonLot
from harness.sandbox import SandboxHandle
from harness.steps.common import dollars
from harness.webhooks import Delivery
from simulator.service.adapters.webhook_endpoint import stored_endpoint

SETTLE_ROUNDS = 20  # drains before a check gives up (each drain waits for in-flight work)
RETRY_ROUNDS = 5  # Stripe's retries a scenario may walk through (test mode makes 3)
RECEIPT_SUBJECT = "Your receipt for lot"
COPIES = {"twice": 2, "three times": 3, "four times": 4}


@dataclass(frozen=True)
class Sent:
    """A delivery made by hand, and how the service answered it."""

    delivery: Delivery
    answer: requests.Response


# == helpers: the buyer pays without a browser, Stripe delivers =============================
def sandbox_of(marketplace: Marketplace) -> SandboxHandle:
    assert marketplace.sandbox is not None, "this step needs the sandbox (@sandbox_only)"
    return marketplace.sandbox


def endpoint_id(marketplace: Marketplace) -> str:
    with marketplace.repository() as repo:
        endpoint = stored_endpoint(repo)
    assert endpoint is not None, "the service has not registered its webhook endpoint"
    return endpoint.id


def start_checkout(marketplace: Marketplace, won: WonLot) -> str:
    """What the buyer's Pay button does, through the API: the Checkout Session's id."""
    answer = requests.post(f"{marketplace.url}/payments/checkout/create", timeout=120,
                           json={"auction_id": won.win_id},
                           headers={"Authorization": f"Bearer {won.buyer.api_token}"})
    assert answer.status_code in (200, 201), answer.text
    return checkout_session_of(marketplace, won)


def checkout_session_of(marketplace: Marketplace, won: WonLot) -> str:
    reached = [s.checkout_session_id for s in marketplace.payment_sessions(won)
               if s.checkout_session_id]
    assert reached, f"no Checkout Session for {won.win_id}"
    return str(reached[-1])


def pay_at_stripe(marketplace: Marketplace, won: WonLot) -> None:
    """The buyer pays with a Visa card on Stripe's page (amounts under the 3-D Secure
    threshold), without coming back to the site: only Stripe's webhooks tell."""
    if not marketplace.payment_sessions(won):
        start_checkout(marketplace, won)
    outcome = sandbox_of(marketplace).complete(checkout_session_of(marketplace, won),
                                               "pm_card_visa")
    assert outcome.get("status") == "paid", outcome


def settle(marketplace: Marketplace, done: Callable[[], bool]) -> bool:
    """Let Stripe deliver what is due until ``done`` holds (deliveries a background
    sender had in flight finish on a later drain)."""
    for _ in range(SETTLE_ROUNDS):
        if done():
            return True
        sandbox_of(marketplace).drain()
    return done()


def is_paid(marketplace: Marketplace, won: WonLot) -> bool:
    return [o.status for o in marketplace.orders(won)] == ["paid"]


def completed_checkout(marketplace: Marketplace, won: WonLot) -> dict[str, Any]:
    """``data.object`` of a ``checkout.session.completed`` for the buyer's Checkout
    Session, as Stripe would send it once paid (the fields the service reads)."""
    session = marketplace.payment_sessions(won)[-1]
    return {"id": session.checkout_session_id, "object": "checkout.session",
            "mode": "payment", "status": "complete", "payment_status": "paid",
            "amount_total": won.lot.amount, "currency": won.lot.currency,
            "customer_email": won.buyer.email,
            "payment_intent": f"pi_{secrets.token_hex(12)}",
            "metadata": {"payment_session_id": session.id, "win_id": won.win_id,
                         "buyer_id": won.buyer.id, "attempt": str(session.attempt)}}


def event_for(marketplace: Marketplace, event_type: str, won: WonLot) -> Any:
    """The event Stripe sent of ``event_type`` about the lot (by our metadata)."""
    for event in sandbox_of(marketplace).events_for(event_type):
        metadata = event.to_dict()["data"]["object"].get("metadata") or {}
        if metadata.get("win_id") == won.win_id:
            return event
    raise AssertionError(f"Stripe sent no {event_type} for {won.win_id}")


def retry_failed_deliveries(marketplace: Marketplace, clock: HarnessClock) -> None:
    """Move the one time to each retry Stripe has scheduled, until none is left."""
    sandbox = sandbox_of(marketplace)
    for _ in range(RETRY_ROUNDS):
        sandbox.drain()
        due = [d["next_attempt_at"] for d in sandbox.deliveries(
            endpoint=endpoint_id(marketplace), status="pending") if d["next_attempt_at"]]
        if not due:
            break
        clock.advance(max(0, int(min(due) - sandbox.now()) + 1))
    sandbox.drain()
    marketplace.run_jobs()


# == arranging ==============================================================================
@given("the buyer has started paying for the lot")
def buyer_started_paying(marketplace: Marketplace, won: WonLot) -> None:
    start_checkout(marketplace, won)


@given("the buyer has paid for the lot")
def buyer_has_paid(marketplace: Marketplace, won: WonLot) -> None:
    """Paid, and every event Stripe sent about it answered.

    Either of two events records the payment, so the order can be paid while the other
    is still being processed."""
    pay_at_stripe(marketplace, won)
    assert settle(marketplace, lambda: is_paid(marketplace, won)
                  and all_delivered(marketplace))


def all_delivered(marketplace: Marketplace) -> bool:
    """No delivery to the service is waiting or in flight."""
    sandbox = sandbox_of(marketplace)
    return not sandbox.deliveries(endpoint=endpoint_id(marketplace), status="pending")


@given(parsers.parse("Stripe sends every event {times} and out of order"),
       target_fixture="copies")
def stripe_duplicates_and_reorders(marketplace: Marketplace, times: str) -> int:
    """Extra copies of each delivery, held and then sent newest first."""
    sandbox_of(marketplace).chaos(endpoint_id(marketplace), duplicate=COPIES[times] - 1,
                                  reorder="true")
    return COPIES[times]


@given("the service will crash right after it next records a payment")
def service_will_crash(marketplace: Marketplace) -> None:
    marketplace.arm_crash("payment_committed")


@given("these buyers have won lots:", target_fixture="wins")
def buyers_have_won(marketplace: Marketplace, stripe_data: DataBuilder,
                    datatable: list[list[str]]) -> list[WonLot]:
    header, *rows = datatable
    wins = []
    for row in rows:
        values = dict(zip(header, row, strict=True))
        buyer = marketplace.add_buyer(stripe_data.buyer(values["buyer"]))
        lot = stripe_data.lot(dollars(values["amount"]), number=int(values["lot"]))
        wins.append(marketplace.record_win(buyer, lot))
    return wins


@given("each buyer has started paying")
def each_buyer_started(marketplace: Marketplace, wins: list[WonLot]) -> None:
    for won in wins:
        start_checkout(marketplace, won)


# == deliveries made by hand (anyone can POST to the endpoint) ===============================
@when(parsers.parse('a "{event_type}" event for the lot arrives signed with the wrong secret'),
      target_fixture="sent")
def forged_delivery(marketplace: Marketplace, won: WonLot, event_type: str) -> Sent:
    builder = marketplace.webhook_builder()
    event = builder.event(event_type, completed_checkout(marketplace, won))
    delivery = builder.sign(event, secret=f"whsec_{secrets.token_urlsafe(24)}")
    return Sent(delivery, builder.send(delivery))


@when(parsers.parse('a "{event_type}" event for the lot arrives signed {age} ago'),
      target_fixture="sent")
def aged_delivery(marketplace: Marketplace, won: WonLot, event_type: str, age: str) -> Sent:
    builder = marketplace.webhook_builder()
    event = builder.event(event_type, completed_checkout(marketplace, won))
    delivery = builder.sign(event, age_seconds=parse_duration(age))
    return Sent(delivery, builder.send(delivery))


@when(parsers.parse('a signed "{event_type}" event for the lot arrives with its amount'
                    " changed to $0.01"), target_fixture="sent")
def tampered_delivery(marketplace: Marketplace, won: WonLot, event_type: str) -> Sent:
    builder = marketplace.webhook_builder()
    event = builder.event(event_type, completed_checkout(marketplace, won))
    delivery = builder.sign(event).tampered()
    return Sent(delivery, builder.send(delivery))


# == Stripe delivering ======================================================================
@when("the buyer pays for the lot at Stripe")
def buyer_pays_at_stripe(marketplace: Marketplace, won: WonLot) -> None:
    pay_at_stripe(marketplace, won)
    settle(marketplace, lambda: is_paid(marketplace, won))


@when(parsers.parse('Stripe sends the "{event_type}" event for the lot again'),
      target_fixture="resent_event_id")
def stripe_resends(marketplace: Marketplace, won: WonLot, event_type: str) -> str:
    event = event_for(marketplace, event_type, won)
    sandbox_of(marketplace).resend(event.id)
    sandbox_of(marketplace).drain()
    return str(event.id)


@when("Stripe delivers it again at its next retry")
@when("Stripe retries every delivery that failed")
def stripe_retries(marketplace: Marketplace, stripe_clock: HarnessClock) -> None:
    retry_failed_deliveries(marketplace, stripe_clock)


@when("the buyers pay while the service is killed and restarted")
def buyers_pay_through_a_restart(marketplace: Marketplace, wins: list[WonLot]) -> None:
    """Half pay before the crash, the rest while it dies and comes back: some deliveries
    are cut off mid-request, others find nobody listening."""
    half = len(wins) // 2
    for won in wins[:half]:
        pay_at_stripe(marketplace, won)
    failures: list[BaseException] = []

    def pay_the_rest() -> None:
        try:
            for won in wins[half:]:
                pay_at_stripe(marketplace, won)
        except BaseException as error:  # reported in the step, not lost in the thread
            failures.append(error)

    payer = threading.Thread(target=pay_the_rest, name="buyers-paying")
    payer.start()
    marketplace.crash_and_restart()
    payer.join(timeout=120)
    assert not payer.is_alive() and not failures, failures


# == outcomes ===============================================================================
@then(parsers.parse("the delivery is refused because its {reason}"))
def delivery_refused(marketplace: Marketplace, sent: Sent, reason: str) -> None:
    kinds = {"signature does not match": "webhook_signature_invalid",
             "timestamp is too old": "webhook_signature_timestamp"}
    assert sent.answer.status_code == 400, sent.answer.text
    assert sent.answer.json()["error"]["code"] == "invalid_signature"
    with marketplace.repository() as repo:
        recorded = [e["kind"] for e in repo.list_security_events()]
    assert kinds[reason] in recorded, recorded


@then("nothing from the delivery is stored")
def nothing_stored(marketplace: Marketplace, sent: Sent, won: WonLot) -> None:
    with marketplace.repository() as repo:
        assert repo.get_webhook_event(sent.delivery.event_id) is None
        assert repo.list_webhook_events() == []
    assert marketplace.transactions(won) == []
    assert [s.status for s in marketplace.payment_sessions(won)] == ["open"]


@then("the repeated delivery is acknowledged without being processed again")
def resend_acknowledged(marketplace: Marketplace, resent_event_id: str) -> None:
    deliveries = sandbox_of(marketplace).deliveries(event=resent_event_id,
                                                    endpoint=endpoint_id(marketplace))
    resent = [d for d in deliveries if d["kind"] == "resend"]
    assert [d["status"] for d in resent] == ["delivered"], deliveries
    assert '"duplicate"' in (resent[0]["attempts"][-1]["response_body"] or "")
    with marketplace.repository() as repo:
        inbox = repo.get_webhook_event(resent_event_id)
    assert inbox is not None and (inbox.status, inbox.attempts) == ("processed", 1), inbox


@then("every copy Stripe sent is acknowledged")
def every_copy_acknowledged(marketplace: Marketplace, copies: int) -> None:
    """Each event (the Checkout Session's and the PaymentIntent's at least) arrived
    ``copies`` times, and every copy was answered 2xx: duplicates are not errors."""
    deliveries = sandbox_of(marketplace).deliveries(endpoint=endpoint_id(marketplace))
    per_event: dict[str, int] = {}
    for delivery in deliveries:
        per_event[delivery["event"]] = per_event.get(delivery["event"], 0) + 1
    assert len(per_event) >= 2 and set(per_event.values()) == {copies}, per_event
    assert {d["status"] for d in deliveries} == {"delivered"}, deliveries


@then("every event from Stripe is processed once")
def every_event_processed_once(marketplace: Marketplace) -> None:
    with marketplace.repository() as repo:
        inbox = repo.list_webhook_events()
    assert inbox, "no event reached the service"
    assert {e.status for e in inbox} == {"processed"}, inbox
    assert len({e.event_id for e in inbox}) == len(inbox)


@then("Stripe's delivery of the payment fails as the service dies")
def delivery_cut_off(marketplace: Marketplace) -> None:
    """No answer at all: the connection died with the worker. The payment is committed
    just before the worker dies, so the attempt may still be ending when it shows."""
    def cut_off() -> list[dict[str, Any]]:
        pending = sandbox_of(marketplace).deliveries(endpoint=endpoint_id(marketplace),
                                                     status="pending")
        return [d for d in pending if d["attempts"] and d["attempts"][-1]["status_code"] is None]

    assert settle(marketplace, lambda: bool(cut_off())), sandbox_of(marketplace).deliveries(
        endpoint=endpoint_id(marketplace))


@then("the buyer is sent exactly one receipt")
def one_receipt(marketplace: Marketplace, won: WonLot) -> None:
    receipts = [m for m in marketplace.mail_to(won.buyer)
                if m["subject"].startswith(RECEIPT_SUBJECT)]
    assert len(receipts) == 1, receipts


@then("every lot is paid exactly once")
def every_lot_paid_once(marketplace: Marketplace, wins: list[WonLot]) -> None:
    assert settle(marketplace, lambda: all(is_paid(marketplace, won) for won in wins))
    for won in wins:
        assert len(marketplace.transactions(won)) == 1, won
        receipts = [m for m in marketplace.mail_to(won.buyer)
                    if m["subject"].startswith(RECEIPT_SUBJECT)]
        assert len(receipts) == 1, (won, receipts)
