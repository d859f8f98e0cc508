"""POST /payments/webhooks/stripe: verify, store, dedupe, dispatch, record failures."""

from __future__ import annotations

from flask.testing import FlaskClient
from web_support import NOW, FakePaymentService, signature, stripe_event

from simulator.service.adapters.repositories import Repository

URL = "/payments/webhooks/stripe"


def deliver(client: FlaskClient, payload: bytes, header: str | None) -> object:
    headers = {"Content-Type": "application/json"}
    if header is not None:
        headers["Stripe-Signature"] = header
    return client.post(URL, data=payload, headers=headers)


def test_a_signed_event_is_stored_dispatched_and_marked_processed(
        anonymous: FlaskClient, service: FakePaymentService, repo: Repository) -> None:
    payload = stripe_event("evt_paid")
    answer = deliver(anonymous, payload, signature(payload, timestamp=NOW))
    assert answer.status_code == 200
    assert answer.json == {"received": True, "event_id": "evt_paid", "status": "processed"}
    assert service.called("handle_event") == [("evt_paid",)]
    stored = repo.get_webhook_event("evt_paid")
    assert stored is not None and stored.status == "processed"
    assert stored.payload == payload.decode()  # the raw delivery, byte for byte


def test_a_duplicate_delivery_answers_200_without_dispatching_again(
        anonymous: FlaskClient, service: FakePaymentService) -> None:
    payload = stripe_event("evt_twice")
    header = signature(payload, timestamp=NOW)
    deliver(anonymous, payload, header)
    again = deliver(anonymous, payload, header)
    assert again.status_code == 200
    assert again.json["status"] == "duplicate"
    assert service.called("handle_event") == [("evt_twice",)]


def test_a_missing_signature_is_refused_before_anything_is_stored(
        anonymous: FlaskClient, service: FakePaymentService, repo: Repository) -> None:
    answer = deliver(anonymous, stripe_event("evt_unsigned"), None)
    assert answer.status_code == 400
    assert answer.json["error"]["code"] == "invalid_signature"
    assert answer.json["error"]["message"] == "Missing Stripe-Signature header."
    assert repo.get_webhook_event("evt_unsigned") is None
    assert service.calls == []
    [event] = repo.list_security_events()
    assert event["kind"] == "webhook_signature_missing"
    assert event["remote_addr"] == "127.0.0.1"


def test_a_wrong_secret_or_a_tampered_payload_is_refused(
        anonymous: FlaskClient, service: FakePaymentService, repo: Repository) -> None:
    payload = stripe_event("evt_forged")
    forged = deliver(anonymous, payload, signature(payload, timestamp=NOW, secret="whsec_other"))
    tampered_payload = payload.replace(b"cs_test_1", b"cs_test_2")
    tampered = deliver(anonymous, tampered_payload, signature(payload, timestamp=NOW))
    assert (forged.status_code, tampered.status_code) == (400, 400)
    assert "No signatures found matching" in forged.json["error"]["message"]
    assert repo.get_webhook_event("evt_forged") is None
    assert service.calls == []
    [event] = repo.list_security_events()  # counted, not a row per refusal
    assert (event["kind"], event["count"]) == ("webhook_signature_invalid", 2)


def test_timestamps_more_than_300_seconds_away_are_refused_as_replays(
        anonymous: FlaskClient, service: FakePaymentService, repo: Repository) -> None:
    payload = stripe_event("evt_old")
    too_old = deliver(anonymous, payload, signature(payload, timestamp=NOW - 301))
    too_new = deliver(anonymous, payload, signature(payload, timestamp=NOW + 301))
    assert (too_old.status_code, too_new.status_code) == (400, 400)
    assert too_old.json["error"]["message"].startswith("Timestamp outside the tolerance zone")
    assert service.calls == []
    assert {e["kind"] for e in repo.list_security_events()} == {"webhook_signature_timestamp"}
    just_in_time = deliver(anonymous, payload, signature(payload, timestamp=NOW - 300))
    assert just_in_time.status_code == 200


def test_a_handler_failure_answers_500_and_is_recorded_then_processed_on_retry(
        anonymous: FlaskClient, service: FakePaymentService, repo: Repository) -> None:
    payload = stripe_event("evt_fails")
    header = signature(payload, timestamp=NOW)
    service.raises["handle_event"] = RuntimeError("database is locked")
    failed = deliver(anonymous, payload, header)
    assert failed.status_code == 500
    assert failed.json["error"]["code"] == "handler_failed"
    stored = repo.get_webhook_event("evt_fails")
    assert stored is not None and stored.status == "failed"
    assert stored.error == "RuntimeError: database is locked"

    del service.raises["handle_event"]
    retried = deliver(anonymous, payload, header)  # Stripe's next attempt
    assert retried.status_code == 200 and retried.json["status"] == "processed"
    stored = repo.get_webhook_event("evt_fails")
    assert stored is not None and (stored.status, stored.attempts) == ("processed", 2)


def test_a_body_over_256_kib_is_refused_with_413_and_logged(
        anonymous: FlaskClient, service: FakePaymentService, repo: Repository,
        caplog: object) -> None:
    payload = stripe_event("evt_huge", padding="x" * (256 * 1024))
    answer = deliver(anonymous, payload, signature(payload, timestamp=NOW))
    assert answer.status_code == 413
    assert answer.json["error"]["code"] == "payload_too_large"
    assert service.calls == []
    assert repo.get_webhook_event("evt_huge") is None
    assert [e["kind"] for e in repo.list_security_events()] == ["webhook_payload_too_large"]
    assert "webhook refused (webhook_payload_too_large)" in caplog.text  # type: ignore[attr-defined]


def test_a_signed_body_that_is_not_an_event_is_refused(
        anonymous: FlaskClient, service: FakePaymentService) -> None:
    payload = b'{"hello": "world"}'
    answer = deliver(anonymous, payload, signature(payload, timestamp=NOW))
    assert answer.status_code == 400
    assert answer.json["error"]["code"] == "invalid_payload"
    assert service.calls == []


def test_a_burst_of_bad_signatures_raises_one_alert(
        anonymous: FlaskClient, repo: Repository) -> None:
    payload = stripe_event("evt_probe")
    for _ in range(12):
        deliver(anonymous, payload, "t=1,v1=deadbeef")
    alerts = repo.list_alerts()
    assert [alert.kind for alert in alerts] == ["webhook_signature_failures"]
    assert "10 webhook deliveries with an invalid signature" in alerts[0].message


def test_get_is_not_allowed(anonymous: FlaskClient) -> None:
    answer = anonymous.get(URL)
    assert answer.status_code == 405
    assert answer.json["error"]["code"] == "method_not_allowed"


def test_a_body_that_is_not_utf8_is_refused_with_a_400(
        anonymous: FlaskClient, service: FakePaymentService, repo: Repository) -> None:
    payload = b'{"id": "evt_\xff\xfe", "object": "event"}'
    for header in (None, "t=1,v1=abc", signature(stripe_event(), timestamp=NOW)):
        answer = deliver(anonymous, payload, header)
        assert answer.status_code == 400, answer.text
        assert answer.json["error"]["code"] in ("invalid_payload", "invalid_signature")
    assert service.calls == []


def test_a_flood_of_unsigned_posts_is_one_counted_row_per_reason(
        anonymous: FlaskClient, repo: Repository) -> None:
    for number in range(300):
        assert deliver(anonymous, stripe_event(f"evt_{number}"), None).status_code == 400
    [event] = repo.list_security_events()
    assert (event["kind"], event["count"]) == ("webhook_signature_missing", 300)
    assert repo.count_security_events(NOW - 300, "webhook_signature") == 300
