"""Alerts sent to ``ALERT_WEBHOOK_URL``: each rule fires to a local receiver with a
Slack or PagerDuty body, through a durable job that retries a failing receiver and
never holds up a payment."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from freezegun.api import FrozenDateTimeFactory
from payments_support import World, make_world

from simulator.service.adapters.errors import PaymentsUnavailable
from simulator.service.app import create_app
from simulator.service.scheduler import DELIVER_ALERT


class Receiver:
    """A tiny HTTP server on 127.0.0.1 that keeps every JSON body it is sent and answers
    with the next of ``statuses`` (then 200)."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        self.statuses: list[int] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                receiver.bodies.append(json.loads(self.rfile.read(length)))
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/alerts"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def texts(self) -> list[str]:
        return [str(body.get("text", "")) for body in self.bodies]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.close()


def build(tmp_path: Any, frozen: FrozenDateTimeFactory, receiver: Receiver,
          **config: Any) -> World:
    """The real service over the fake Stripe, its app made (which wires the alerts)."""
    settings: dict[str, Any] = {"stripe_webhook_secret": "whsec_alerts", "test_mode": True,
                                "session_secret": "alerts", "rate_limits": "off",
                                "alert_webhook_url": receiver.url,
                                "alert_failure_min_payments": 2, **config}
    world = make_world(tmp_path, frozen, **settings)
    create_app(world.service.config, clock=world.clock, service=world.service)
    return world


@pytest.fixture
def world(tmp_path: Any, frozen: FrozenDateTimeFactory, receiver: Receiver) -> Iterator[World]:
    built = build(tmp_path, frozen, receiver)
    yield built
    built.repo.close()


def decline(world: World, amount: int = 12_000) -> None:
    win = world.add_win(amount=amount)
    started = world.service.start_checkout(world.buyer.id, win.id)
    session_id = started.payment_session.checkout_session_id
    assert session_id is not None
    world.deliver(world.stripe.decline(session_id))


# -- each rule, to a Slack incoming webhook ---------------------------------------------------
def test_a_failure_rate_over_the_threshold_pages(world: World, receiver: Receiver) -> None:
    decline(world)
    decline(world)

    world.service.run_due_jobs()

    [text] = receiver.texts()
    assert text.startswith(":rotating_light: [critical] payment_failure_rate on http://shop.test:")
    assert "2 of 2 payments failed in the last 15 minutes (100%, over the 50% threshold)" in text


def test_the_failure_rate_is_not_paged_below_its_minimum(world: World,
                                                         receiver: Receiver) -> None:
    decline(world)

    world.service.run_due_jobs()

    assert receiver.bodies == []


def test_a_webhook_processing_failure_pages(world: World, receiver: Receiver) -> None:
    events = world.stripe.pay(world.start())
    world.stripe.unavailable = PaymentsUnavailable("retries_exhausted")
    with pytest.raises(PaymentsUnavailable):
        world.deliver(events[0])

    world.service.run_due_jobs()

    [text] = receiver.texts()
    assert text.startswith(":warning: [warning] handler_failure on http://shop.test:")
    assert f"checkout.session.completed {events[0]['id']} failed" in text


def test_a_high_risk_payment_held_for_review_pages(world: World, receiver: Receiver) -> None:
    world.deliver(*world.stripe.pay(world.start(), card="risky"))

    world.service.run_due_jobs()

    [text] = receiver.texts()
    assert text.startswith(":warning: [warning] review_needed on http://shop.test:")
    assert "Stripe Radar rated the payment's risk elevated" in text


def test_the_circuit_breaker_opening_pages(world: World, receiver: Receiver) -> None:
    world.stripe.unavailable = PaymentsUnavailable("circuit_open")
    with pytest.raises(Exception, match="temporarily unavailable"):
        world.start()

    world.service.run_due_jobs()

    [text] = receiver.texts()
    assert text.startswith(":rotating_light: [critical] circuit_open on http://shop.test:")
    assert "the circuit breaker is open" in text


# -- PagerDuty's Events API v2 ------------------------------------------------------------------
def test_pagerduty_gets_a_trigger_event(tmp_path: Any, frozen: FrozenDateTimeFactory,
                                        receiver: Receiver) -> None:
    world = build(tmp_path, frozen, receiver, alert_webhook_format="pagerduty",
                  alert_pagerduty_routing_key="R0UT1NGKEY")
    world.stripe.unavailable = PaymentsUnavailable("circuit_open")
    with pytest.raises(Exception, match="temporarily unavailable"):
        world.start()

    world.service.run_due_jobs()

    [body] = receiver.bodies
    assert body == {
        "routing_key": "R0UT1NGKEY",
        "event_action": "trigger",
        "dedup_key": "circuit_open:stripe",
        "payload": {
            "summary": "Stripe is failing: the circuit breaker is open and payments are"
                       " refused with 503.",
            "severity": "critical",
            "source": "http://shop.test",
            "timestamp": "2025-03-01T12:00:00+00:00",
            "component": "payments",
            "class": "circuit_open",
        },
    }
    world.repo.close()


# -- a receiver that fails ----------------------------------------------------------------------
def test_a_failing_receiver_is_retried_and_never_blocks_the_payment(
        world: World, receiver: Receiver) -> None:
    receiver.statuses = [500, 503]
    world.deliver(*world.stripe.pay(world.start(), card="risky"))

    world.service.run_due_jobs()
    [job] = world.repo.pending_jobs(DELIVER_ALERT)
    assert job.attempts == 1 and job.due_at == world.clock.now() + 30
    assert world.repo.order_for_win(world.win.id) is not None  # the payment is recorded
    world.advance(30)
    world.service.run_due_jobs()
    world.advance(60)
    world.service.run_due_jobs()

    assert len(receiver.bodies) == 3
    assert receiver.bodies[0] == receiver.bodies[2]
    assert world.repo.pending_jobs(DELIVER_ALERT) == []


def test_an_unreachable_receiver_is_retried(tmp_path: Any, frozen: FrozenDateTimeFactory,
                                            receiver: Receiver) -> None:
    receiver.close()
    world = build(tmp_path, frozen, receiver)
    world.deliver(*world.stripe.pay(world.start(), card="risky"))

    world.service.run_due_jobs()

    [job] = world.repo.pending_jobs(DELIVER_ALERT)
    assert job.attempts == 1
    row = world.repo.connection().execute(
        "SELECT last_error FROM jobs WHERE id = ?", (job.id,)).fetchone()
    assert row[0].startswith("AlertNotDelivered: http://127.0.0.1:")
    world.repo.close()


def test_without_a_receiver_no_alert_is_queued(tmp_path: Any, frozen: FrozenDateTimeFactory,
                                               receiver: Receiver) -> None:
    """And a service restarted without one stops forwarding."""
    world = build(tmp_path, frozen, receiver)
    create_app(replace(world.service.config, alert_webhook_url=None), clock=world.clock,
               service=world.service)
    world.deliver(*world.stripe.pay(world.start(), card="risky"))

    assert [a.kind for a in world.repo.list_alerts()] == ["review_needed"]
    assert world.repo.pending_jobs(DELIVER_ALERT) == []
    world.repo.close()
