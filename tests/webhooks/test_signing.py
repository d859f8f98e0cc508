"""The Stripe-Signature header and the retry profiles, as pure functions."""

from __future__ import annotations

import pytest
import stripe

from simulator.sandbox.webhooks.schedule import DAY, HOUR, PROFILES, next_attempt_at, policy
from simulator.sandbox.webhooks.signing import (
    compute_signature,
    parse_header,
    signature_header,
    verifies,
)

PAYLOAD = '{\n  "id": "evt_1",\n  "object": "event"\n}'
NOW = 1_795_000_000


def test_the_header_verifies_with_the_official_sdk() -> None:
    header = signature_header(PAYLOAD, ["whsec_one"], NOW)
    assert header == f"t={NOW},v1={compute_signature(PAYLOAD, 'whsec_one', NOW)}"
    assert stripe.WebhookSignature.verify_header(PAYLOAD, header, "whsec_one", tolerance=None)


def test_a_known_signature() -> None:
    # HMAC-SHA256("whsec_test", "1700000000.{}"), computed independently with openssl.
    assert compute_signature("{}", "whsec_test", 1_700_000_000) == (
        "35495024f4ef3f94e5a93e22221544c4b75e9a42300cd965ab81cb85cd994e91"
    )


def test_another_secret_does_not_verify() -> None:
    header = signature_header(PAYLOAD, ["whsec_one"], NOW)
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.WebhookSignature.verify_header(PAYLOAD, header, "whsec_two", tolerance=None)
    assert not verifies(PAYLOAD, header, "whsec_two")


def test_a_rolled_secret_adds_a_second_v1() -> None:
    header = signature_header(PAYLOAD, ["whsec_new", "whsec_old"], NOW)
    timestamp, signatures = parse_header(header)
    assert timestamp == NOW and len(signatures) == 2
    for secret in ("whsec_new", "whsec_old"):
        assert verifies(PAYLOAD, header, secret)
        assert stripe.WebhookSignature.verify_header(PAYLOAD, header, secret, tolerance=None)


def test_a_tampered_payload_does_not_verify() -> None:
    header = signature_header(PAYLOAD, ["whsec_one"], NOW)
    assert not verifies(PAYLOAD.replace("evt_1", "evt_2"), header, "whsec_one")


def test_no_secret_is_refused() -> None:
    with pytest.raises(ValueError):
        signature_header(PAYLOAD, [], NOW)


def _schedule(name: str) -> list[float]:
    """Times of every attempt after the first (at 0) when each one fails on time."""
    times, due, attempt = [], 0.0, 1
    while (next_at := next_attempt_at(policy(name), attempt, 0.0, due, due)) is not None:
        times.append(next_at)
        due, attempt = next_at, attempt + 1
    return times


def test_the_fast_profile_doubles_from_one_second() -> None:
    assert _schedule("fast") == [1, 3, 7, 15, 31]


def test_the_test_profile_retries_three_times_over_a_few_hours() -> None:
    times = _schedule("test")
    assert len(times) == 3
    assert times[-1] <= 4 * HOUR


def test_the_live_profile_backs_off_for_up_to_three_days() -> None:
    times = _schedule("live")
    gaps = [b - a for a, b in zip([0.0, *times], times, strict=False)]
    assert gaps[:6] == [60, 300, 1800, 2 * HOUR, 5 * HOUR, 10 * HOUR]
    assert all(gap == 10 * HOUR for gap in gaps[6:])
    assert times[-1] <= 3 * DAY < times[-1] + 10 * HOUR
    assert PROFILES["live"].max_attempts() is None


def test_a_late_attempt_catches_up_with_the_retries_it_skipped() -> None:
    retry = policy("test")
    assert next_attempt_at(retry, 1, 0.0, 0.0, now=5 * HOUR) == 300  # due already
    assert next_attempt_at(retry, 1, 0.0, 0.0, now=10.0) == 310  # after this attempt
