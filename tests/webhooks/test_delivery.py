"""Signed delivery of events to a real local receiver, through real sandbox processes."""

from __future__ import annotations

import pytest
import requests
import stripe
from webhook_sandbox import Endpoint, Sandbox, endpoint_for

from simulator.sandbox.webhooks.receiver import WebhookReceiver
from simulator.sandbox.webhooks.signing import parse_header


def test_an_event_arrives_signed_with_stripes_headers(
    sandbox: Sandbox, endpoint: Endpoint, receiver: WebhookReceiver
) -> None:
    customer = sandbox.create_customer("grace@example.com")
    sandbox.drain()

    [got] = receiver.verified()
    assert got.event_type == "customer.created"
    assert got.event["data"]["object"]["id"] == customer
    assert got.headers["Content-Type"] == "application/json; charset=utf-8"
    assert got.headers["User-Agent"] == "Stripe/1.0 (+https://stripe.com/docs/webhooks)"
    assert got.headers["Cache-Control"] == "no-cache"
    assert got.headers["Accept"] == "*/*; q=0.5, application/xml"
    timestamp, signatures = parse_header(got.headers["Stripe-Signature"])
    assert len(signatures) == 1
    assert abs((timestamp or 0) - sandbox.now()) <= 2


def test_a_successful_payment_delivers_its_three_events(
    sandbox: Sandbox, receiver: WebhookReceiver
) -> None:
    events = ["payment_intent.created", "charge.succeeded", "payment_intent.succeeded"]
    for _ in endpoint_for(sandbox, receiver, events):
        intent = sandbox.sdk.v1.payment_intents.create(params={
            "amount": 64200, "currency": "usd", "payment_method": "pm_card_visa",
            "confirm": True,
            "automatic_payment_methods": {"enabled": True, "allow_redirects": "never"},
        })
        sandbox.drain()
    assert intent.status == "succeeded"
    assert sorted(r.event_type or "" for r in receiver.verified()) == sorted(events)
    [succeeded] = [r for r in receiver.verified() if r.event_type == "payment_intent.succeeded"]
    assert succeeded.event["data"]["object"]["id"] == intent.id
    assert succeeded.event["data"]["object"]["amount_received"] == 64200


def test_the_signature_does_not_verify_with_another_secret(
    sandbox: Sandbox, endpoint: Endpoint, receiver: WebhookReceiver
) -> None:
    sandbox.create_customer()
    sandbox.drain()
    [got] = receiver.verified()
    header = got.headers["Stripe-Signature"]

    assert stripe.Webhook.construct_event(got.payload, header, endpoint.secret).id == got.event_id
    with pytest.raises(stripe.SignatureVerificationError) as raised:
        stripe.Webhook.construct_event(got.payload, header, "whsec_not_the_endpoints")
    assert "No signatures found matching the expected signature" in str(raised.value)


def test_a_receiver_with_the_wrong_secret_refuses_and_the_attempt_is_logged(
    sandbox: Sandbox, endpoint: Endpoint, receiver: WebhookReceiver
) -> None:
    receiver.secrets = ["whsec_someone_elses"]
    event = sandbox.event_for(sandbox.create_customer())
    sandbox.drain()

    [delivery] = sandbox.deliveries(event=event)
    assert delivery["status"] == "pending"  # retried later, on the sandbox's profile
    [attempt] = delivery["attempts"]
    assert attempt["status_code"] == 400
    assert "No signatures found matching the expected signature" in attempt["response_body"]
    assert sandbox.pending_webhooks(event) == 1


def test_pending_webhooks_drops_to_zero_once_delivered(
    sandbox: Sandbox, endpoint: Endpoint, receiver: WebhookReceiver
) -> None:
    event = sandbox.event_for(sandbox.create_customer())
    sandbox.drain()

    assert sandbox.pending_webhooks(event) == 0
    [delivery] = sandbox.deliveries(event=event)
    assert delivery["status"] == "delivered"
    assert delivery["endpoint"] == endpoint.id
    assert [a["status_code"] for a in delivery["attempts"]] == [200]
    assert delivery["attempts"][0]["response_body"] == '{"received": true}'


def test_the_dispatcher_delivers_without_being_asked(
    sandbox: Sandbox, endpoint: Endpoint, receiver: WebhookReceiver
) -> None:
    customer = sandbox.create_customer()
    assert receiver.wait_until(lambda r: len(r.verified()) == 1, timeout=5)
    assert receiver.verified()[0].event["data"]["object"]["id"] == customer


def test_every_subscribed_endpoint_gets_its_own_delivery(
    sandbox: Sandbox, endpoint: Endpoint, receiver: WebhookReceiver
) -> None:
    with WebhookReceiver() as other:
        for second in endpoint_for(sandbox, other, ["*"]):
            event = sandbox.event_for(sandbox.create_customer())
            sandbox.drain()
            assert sandbox.pending_webhooks(event) == 0
            assert {d["endpoint"] for d in sandbox.deliveries(event=event)} == {
                endpoint.id, second.id
            }
    assert receiver.acknowledged_ids() == other.acknowledged_ids() == [event]


def test_resend_delivers_the_event_again(
    sandbox: Sandbox, endpoint: Endpoint, receiver: WebhookReceiver
) -> None:
    event = sandbox.event_for(sandbox.create_customer())
    sandbox.drain()
    queued = sandbox.control("POST", f"/webhooks/events/{event}/resend", endpoint=endpoint.id)
    sandbox.drain()

    assert receiver.acknowledged_ids() == [event, event]
    kinds = {d["id"]: d["kind"] for d in sandbox.deliveries(event=event)}
    assert kinds[queued["deliveries"][0]] == "resend"
    assert sorted(kinds.values()) == ["event", "resend"]
    assert sandbox.pending_webhooks(event) == 0


def test_an_endpoint_pinned_to_an_api_version_gets_events_in_that_version(
    sandbox: Sandbox, receiver: WebhookReceiver
) -> None:
    for _ in endpoint_for(sandbox, receiver, ["customer.created"], "2025-09-30.clover"):
        sandbox.create_customer()
        sandbox.drain()
    [got] = receiver.verified()
    assert got.event["api_version"] == "2025-09-30.clover"


def test_deliveries_of_a_deleted_endpoint_stop(
    sandbox: Sandbox, receiver: WebhookReceiver
) -> None:
    sandbox.control("POST", "/webhooks/config", profile="fast")
    for created in endpoint_for(sandbox, receiver, ["customer.created"]):
        receiver.statuses = [500]
        event = sandbox.event_for(sandbox.create_customer())
        sandbox.drain()
        endpoint_id = created.id
    sandbox.advance(1)
    sandbox.drain()

    [delivery] = sandbox.deliveries(event=event, endpoint=endpoint_id)
    assert delivery["status"] == "failed"
    assert [a["status_code"] for a in delivery["attempts"]] == [500, None]
    assert delivery["attempts"][1]["error"] == "webhook endpoint deleted"
    sandbox.control("POST", "/webhooks/config", profile="test")


def test_the_receiver_refuses_unsigned_posts() -> None:
    with WebhookReceiver(["whsec_a"]) as receiver:
        response = requests.post(receiver.url, data="{}", timeout=5)
    assert response.status_code == 400
    assert receiver.received[0].verified is False


def test_unknown_delivery_is_resource_missing(sandbox: Sandbox) -> None:
    response = requests.get(f"{sandbox.server.url}/_sandbox/webhooks/deliveries/whdel_nope",
                            timeout=5)
    assert response.status_code == 404
    assert response.json()["error"]["message"] == "No such webhook delivery: 'whdel_nope'"
