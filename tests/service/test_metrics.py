"""``GET /metrics``: a scripted run (wins paid, declined, retried and recovered, a 3-D
Secure payment, a risky card held for review) read back through Prometheus's own parser,
and who may read it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import stripe
from flask import Flask
from flask.testing import FlaskClient
from freezegun.api import FrozenDateTimeFactory
from payments_support import World, make_world
from prometheus_client.parser import text_string_to_metric_families

from simulator.service.adapters.errors import PaymentsUnavailable
from simulator.service.adapters.webhook_endpoint import WEBHOOK_PATH
from simulator.service.app import create_app

WEBHOOK_SECRET = "whsec_metrics_tests"
METRICS_TOKEN = "metrics-scraper-token"


def build(tmp_path: Any, frozen: FrozenDateTimeFactory, **config: Any) -> tuple[World, Flask]:
    """The real PaymentService over the fake Stripe, behind the real Flask app."""
    world = make_world(tmp_path, frozen, stripe_webhook_secret=WEBHOOK_SECRET,
                       session_secret="metrics-tests", rate_limits="off", **config)
    app = create_app(world.service.config, clock=world.clock,
                     service=world.service)
    app.testing = True
    return world, app


@pytest.fixture
def stack(tmp_path: Any, frozen: FrozenDateTimeFactory) -> Iterator[tuple[World, Flask]]:
    world, app = build(tmp_path, frozen, test_mode=True)
    yield world, app
    world.repo.close()


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample, by name and sorted labels."""
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def value(found: dict[Any, float], name: str, **labels: str) -> float:
    return found.get((name, tuple(sorted(labels.items()))), 0.0)


def checkout_over_http(client: FlaskClient, world: World, win_id: str,
                       retry_of: str | None = None) -> str:
    """The buyer's API call; the Checkout Session id it made."""
    path = (f"/payments/retry/{retry_of}" if retry_of else "/payments/checkout/create")
    answer = client.post(path, json={"auction_id": win_id},
                         headers={"Authorization": "Bearer tok_buyer"})
    assert answer.status_code in (200, 201), answer.text
    session = world.repo.get_payment_session(answer.get_json(force=True)["payment_session_id"])
    assert session is not None and session.checkout_session_id
    return session.checkout_session_id


def deliver_over_http(client: FlaskClient, world: World, event: dict[str, Any]) -> int:
    payload = json.dumps(event)
    header = stripe.WebhookSignature.generate_signature_header(
        payload, WEBHOOK_SECRET, timestamp=world.clock.timestamp())
    answer = client.post(WEBHOOK_PATH, data=payload, content_type="application/json",
                         headers={"Stripe-Signature": header})
    return answer.status_code


def scripted_run(world: World, client: FlaskClient) -> None:
    """Five wins: paid at once; paid with 3-D Secure; declined then recovered by a
    retry; failed 3-D Secure; a risky card held for review."""
    paid = world.win
    world.deliver(*world.stripe.pay(checkout_over_http(client, world, paid.id)))
    three_ds = world.add_win(amount=80_000)
    for event in world.stripe.pay(checkout_over_http(client, world, three_ds.id),
                                  card="visa_3ds"):
        assert deliver_over_http(client, world, event) == 200
    recovered = world.add_win(amount=12_000)
    first = checkout_over_http(client, world, recovered.id)
    assert deliver_over_http(client, world, world.stripe.decline(first)) == 200
    [failed_attempt] = world.repo.sessions_for_win(recovered.id)
    second = checkout_over_http(client, world, recovered.id, retry_of=failed_attempt.id)
    world.deliver(*world.stripe.pay(second))
    unauthenticated = world.add_win(amount=90_000)
    world.deliver(world.stripe.decline(checkout_over_http(client, world, unauthenticated.id),
                                       decline_code="",
                                       code="payment_intent_authentication_failure"))
    risky = world.add_win(amount=15_000)
    world.deliver(*world.stripe.pay(checkout_over_http(client, world, risky.id), card="risky"))
    world.service.run_due_jobs()


def test_metrics_after_a_scripted_run(stack: tuple[World, Flask]) -> None:
    world, app = stack
    client = app.test_client()
    scripted_run(world, client)

    answer = client.get("/metrics")

    assert answer.status_code == 200
    assert answer.content_type.startswith("text/plain")
    found = samples(answer.text)
    assert value(found, "payments_checkouts_created_total", attempt="first") == 5
    assert value(found, "payments_checkouts_created_total", attempt="retry") == 1
    assert value(found, "payments_retries_total") == 1
    assert value(found, "payments_succeeded_total", currency="usd") == 4
    assert value(found, "payments_revenue_minor_units_total", currency="usd") == \
        64_200 + 80_000 + 12_000 + 15_000
    assert value(found, "payments_failed_total", reason="insufficient_funds") == 1
    assert value(found, "payments_failed_total",
                 reason="payment_intent_authentication_failure") == 1
    # 3-D Secure is requested over $500: lot 17 ($642), the $800 and the $900 wins.
    assert value(found, "payments_three_d_secure_total", outcome="requested") == 3
    assert value(found, "payments_three_d_secure_total", outcome="completed") == 1
    assert value(found, "payments_three_d_secure_total", outcome="failed") == 1
    assert value(found, "payments_failed_wins_total") == 2
    assert value(found, "payments_recoveries_total") == 1
    assert value(found, "payments_fraud_decisions_total", decision="review") >= 1
    assert value(found, "payments_fraud_flags_total", rule="radar_risk") == 1
    assert value(found, "payments_fraud_reviews", status="pending") >= 1
    assert value(found, "payments_alerts_open", kind="review_needed", severity="warning") >= 1
    assert value(found, "payments_webhook_events", status="processed") == 3
    assert value(found, "payments_checkout_create_seconds_count", route="api") == 5
    assert value(found, "payments_checkout_create_seconds_count", route="api_retry") == 1
    assert value(found, "payments_checkout_create_seconds_bucket", route="api",
                 le="+Inf") == 5
    assert value(found, "payments_webhook_processing_seconds_count", outcome="processed") == 3
    assert value(found, "payments_receipt_ready_seconds_count") == 4


def test_every_worker_reads_the_same_figures(stack: tuple[World, Flask]) -> None:
    """A second app over the same database (another gunicorn worker) agrees."""
    world, app = stack
    client = app.test_client()
    scripted_run(world, client)
    other = create_app(world.service.config, clock=world.clock, service=world.service)

    first = samples(client.get("/metrics").text)
    second = samples(other.test_client().get("/metrics").text)

    assert first == second


def test_a_failing_webhook_counts_as_failed(stack: tuple[World, Flask]) -> None:
    world, app = stack
    client = app.test_client()
    session = checkout_over_http(client, world, world.win.id)
    events = world.stripe.pay(session)
    world.stripe.unavailable = PaymentsUnavailable("retries_exhausted")

    assert deliver_over_http(client, world, events[0]) == 500

    found = samples(client.get("/metrics").text)
    assert value(found, "payments_webhook_processing_seconds_count", outcome="failed") == 1
    assert value(found, "payments_webhook_events", status="failed") == 1


# -- who may read it ----------------------------------------------------------------------------
@pytest.fixture
def production(tmp_path: Any,
               frozen: FrozenDateTimeFactory) -> Iterator[tuple[World, Flask]]:
    world, app = build(tmp_path, frozen, metrics_token=METRICS_TOKEN)
    yield world, app
    world.repo.close()


def test_outside_test_mode_loopback_without_a_token_is_refused(
        production: tuple[World, Flask]) -> None:
    _world, app = production

    answer = app.test_client().get("/metrics")

    assert answer.status_code == 401
    assert "payments_" not in answer.text


def test_a_buyers_token_is_refused(production: tuple[World, Flask]) -> None:
    _world, app = production

    answer = app.test_client().get("/metrics", headers={"Authorization": "Bearer tok_buyer"})

    assert answer.status_code == 403


def test_a_wrong_metrics_token_is_refused(production: tuple[World, Flask]) -> None:
    _world, app = production

    answer = app.test_client().get("/metrics", headers={"Authorization": "Bearer guess"})

    assert answer.status_code == 401


def test_the_metrics_token_and_an_admins_token_may_read(
        production: tuple[World, Flask]) -> None:
    _world, app = production
    client = app.test_client()

    by_token = client.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    by_admin = client.get("/metrics", headers={"Authorization": "Bearer tok_admin"})

    assert by_token.status_code == 200 and "payments_checkouts_created_total" in by_token.text
    assert by_admin.status_code == 200


def test_in_test_mode_only_loopback_may_read_without_a_token(
        stack: tuple[World, Flask]) -> None:
    _world, app = stack
    client = app.test_client()

    local = client.get("/metrics")
    remote = client.get("/metrics", environ_base={"REMOTE_ADDR": "192.0.2.10"})

    assert local.status_code == 200
    assert remote.status_code == 401


def test_the_recovery_rate_over_a_mix_of_declines_and_retries(
        stack: tuple[World, Flask]) -> None:
    """Ten wins: four paid at once, six declined; of those, three retried and paid, one
    retried and declined again, two never retried. Recovered: 3 of 6 (50%)."""
    world, app = stack
    client = app.test_client()
    outcomes = ["paid"] * 4 + ["recovered"] * 3 + ["declined twice"] + ["abandoned"] * 2
    for outcome in outcomes:
        win = world.add_win(amount=12_000)
        first = checkout_over_http(client, world, win.id)
        if outcome == "paid":
            world.deliver(*world.stripe.pay(first))
            continue
        world.deliver(world.stripe.decline(first, decline_code="card_declined"))
        if outcome == "abandoned":
            continue
        [failed] = world.repo.sessions_for_win(win.id)
        second = checkout_over_http(client, world, win.id, retry_of=failed.id)
        if outcome == "recovered":
            world.deliver(*world.stripe.pay(second))
        else:
            world.deliver(world.stripe.decline(second, decline_code="expired_card"))

    found = samples(client.get("/metrics").text)

    failed_wins = value(found, "payments_failed_wins_total")
    recovered = value(found, "payments_recoveries_total")
    assert (failed_wins, recovered) == (6, 3) and recovered / failed_wins == 0.5
    assert value(found, "payments_failed_total", reason="card_declined") == 6
    assert value(found, "payments_failed_total", reason="expired_card") == 1
    assert value(found, "payments_retries_total") == 4
