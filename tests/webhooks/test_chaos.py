"""Chaos options per endpoint (duplicates, reordering, delays, stale timestamps) and
rolling an endpoint's signing secret."""

from __future__ import annotations

import pytest
import requests
import stripe
from webhook_sandbox import Endpoint, Sandbox

from simulator.sandbox.webhooks.receiver import WebhookReceiver
from simulator.sandbox.webhooks.signing import parse_header


def _chaos(sandbox: Sandbox, endpoint: Endpoint, **options: object) -> dict[str, object]:
    return sandbox.control("POST", f"/webhooks/endpoints/{endpoint.id}/chaos", **options)


def test_duplicate_sends_extra_copies_without_touching_pending_webhooks(
    sandbox: Sandbox, endpoint: Endpoint, receiver: WebhookReceiver
) -> None:
    _chaos(sandbox, endpoint, duplicate=2)
    event = sandbox.event_for(sandbox.create_customer())
    sandbox.drain()

    assert receiver.acknowledged_ids() == [event, event, event]
    kinds = sorted(d["kind"] for d in sandbox.deliveries(event=event))
    assert kinds == ["duplicate", "duplicate", "event"]
    assert sandbox.pending_webhooks(event) == 0


def test_reorder_holds_deliveries_until_a_drain_then_sends_newest_first(
    sandbox: Sandbox, endpoint: Endpoint, receiver: WebhookReceiver
) -> None:
    _chaos(sandbox, endpoint, reorder="true")
    customers = [sandbox.create_customer(f"c{i}@example.com") for i in range(3)]
    events = [sandbox.event_for(c) for c in customers]
    held = sandbox.deliveries(endpoint=endpoint.id)
    assert [d["held"] for d in held] == [True, True, True]
    assert receiver.received == []

    sandbox.drain()
    assert receiver.acknowledged_ids() == events[::-1]


def test_delay_queues_deliveries_later_on_the_sandbox_clock(
    sandbox: Sandbox, endpoint: Endpoint, receiver: WebhookReceiver
) -> None:
    _chaos(sandbox, endpoint, delay_ms=30_000)
    event = sandbox.event_for(sandbox.create_customer())
    assert sandbox.drain()["attempted"] == 0
    assert receiver.received == []

    sandbox.advance(30)
    sandbox.drain()
    assert receiver.acknowledged_ids() == [event]


def test_stale_timestamp_is_refused_by_the_sdk_but_the_signature_is_genuine(
    sandbox: Sandbox, endpoint: Endpoint, receiver: WebhookReceiver
) -> None:
    _chaos(sandbox, endpoint, stale_timestamp="true")
    event = sandbox.event_for(sandbox.create_customer())
    sandbox.drain()

    [refused] = receiver.received
    assert refused.status == 400
    assert (refused.error or "").startswith("Timestamp outside the tolerance zone")
    header = refused.headers["Stripe-Signature"]
    timestamp, _ = parse_header(header)
    assert sandbox.now() - (timestamp or 0) == pytest.approx(600, abs=3)
    verified = stripe.WebhookSignature.verify_header(refused.payload, header, endpoint.secret)
    assert verified is True

    sandbox.control("DELETE", f"/webhooks/endpoints/{endpoint.id}/chaos")
    sandbox.control("POST", f"/webhooks/events/{event}/resend", endpoint=endpoint.id)
    sandbox.drain()
    assert receiver.acknowledged_ids() == [event]


def test_clear_turns_every_option_off(sandbox: Sandbox, endpoint: Endpoint) -> None:
    _chaos(sandbox, endpoint, duplicate=1, reorder="true", delay_ms=5, stale_timestamp="true")
    cleared = _chaos(sandbox, endpoint, clear="true")
    assert cleared["chaos"] == {
        "duplicate": 0, "reorder": False, "delay_ms": 0, "stale_timestamp": False
    }


def test_a_rolled_secret_signs_with_both_secrets_until_the_old_one_expires(
    sandbox: Sandbox, endpoint: Endpoint, receiver: WebhookReceiver
) -> None:
    rolled = sandbox.control("POST", f"/webhooks/endpoints/{endpoint.id}/roll_secret")
    new_secret = str(rolled["secret"])
    assert new_secret.startswith("whsec_") and new_secret != endpoint.secret
    assert rolled["previous_secret_expires_at"] == pytest.approx(sandbox.now() + 86400, abs=3)
    receiver.secrets = [new_secret]

    sandbox.create_customer()
    sandbox.drain()

    [got] = receiver.verified()
    header = got.headers["Stripe-Signature"]
    assert len(parse_header(header)[1]) == 2
    for secret in (new_secret, endpoint.secret):
        assert stripe.Webhook.construct_event(got.payload, header, secret).id == got.event_id


def test_an_expired_old_secret_no_longer_signs(
    sandbox: Sandbox, endpoint: Endpoint, receiver: WebhookReceiver
) -> None:
    rolled = sandbox.control("POST", f"/webhooks/endpoints/{endpoint.id}/roll_secret",
                             expires_in=0)
    receiver.secrets = [str(rolled["secret"])]
    sandbox.create_customer()
    sandbox.drain()

    [got] = receiver.verified()
    assert len(parse_header(got.headers["Stripe-Signature"])[1]) == 1
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(got.payload, got.headers["Stripe-Signature"],
                                       endpoint.secret)


def test_a_secret_the_receiver_knows_can_be_set_and_a_malformed_one_is_refused(
    sandbox: Sandbox, endpoint: Endpoint, receiver: WebhookReceiver
) -> None:
    url = f"{sandbox.server.url}/_sandbox/webhooks/endpoints/{endpoint.id}/secret"
    for bad in ("", "whsec_short", "sk_test_" + "a" * 30, "whsec_" + "a" * 30 + "!"):
        refused = requests.post(url, data={"secret": bad}, timeout=30)
        assert refused.status_code == 400
        assert refused.json()["error"]["param"] == "secret"
    kept = "whsec_" + "K" * 32
    assert sandbox.control("POST", f"/webhooks/endpoints/{endpoint.id}/secret",
                           secret=kept)["secret"] == kept
    receiver.secrets = [kept]
    sandbox.create_customer()
    sandbox.drain()
    [got] = receiver.verified()
    assert stripe.Webhook.construct_event(got.payload, got.headers["Stripe-Signature"],
                                          kept).id == got.event_id
