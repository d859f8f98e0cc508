"""The gateway's calls against a running sandbox, through the official SDK: Checkout
Sessions, idempotent creates, refused requests, payment details and webhook events."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import pytest
from adapters_support import GatewayFactory, Sandbox, checkout_params

from simulator.sandbox.webhooks.signing import signature_header
from simulator.service.adapters.errors import InvalidSignature, StripeRejected
from simulator.service.adapters.stripe_gateway import CheckoutSessionInfo

WHSEC = "whsec_service_gateway_tests"


# -- Checkout Sessions -----------------------------------------------------------------------
def test_creates_a_hosted_checkout_session(sandbox: Sandbox, make_gateway: GatewayFactory
                                           ) -> None:
    gateway = make_gateway().gateway
    params = checkout_params(sandbox, request_three_d_secure=True)

    session = gateway.create_checkout_session(**params)

    assert session.id.startswith("cs_test_")
    assert (session.status, session.payment_status) == ("open", "unpaid")
    assert session.url is not None and session.url.endswith(f"/c/pay/{session.id}")
    assert (session.amount_total, session.currency) == (64200, "usd")
    assert session.expires_at == params["expires_at"]
    assert session.payment_intent_id is None
    assert session.metadata == params["metadata"]
    stored = sandbox.client.v1.checkout.sessions.retrieve(session.id)
    assert stored.customer_email == "ada@example.com"
    assert stored.payment_method_options.card.request_three_d_secure == "any"  # type: ignore[union-attr]


def test_the_same_idempotency_key_twice_gives_the_same_session(
        sandbox: Sandbox, make_gateway: GatewayFactory) -> None:
    gateway = make_gateway().gateway
    params = checkout_params(sandbox)

    first = gateway.create_checkout_session(**params)
    second = gateway.create_checkout_session(**params)

    assert second == first
    assert [s.id for s in sandbox.sessions_tagged(params["metadata"]["test_marker"])] \
        == [first.id]


def test_concurrent_creates_with_one_key_make_one_session(
        sandbox: Sandbox, make_gateway: GatewayFactory) -> None:
    """Requests that meet the first one in flight get 409 from Stripe and retry; a 409
    shows Stripe is up, so the breaker stays closed."""
    under_test = make_gateway(real_sleep=True, stripe_max_attempts=6)
    params = checkout_params(sandbox)

    with ThreadPoolExecutor(max_workers=8) as pool:
        sessions = list(pool.map(lambda _: under_test.gateway.create_checkout_session(**params),
                                 range(8)))

    assert len({session.id for session in sessions}) == 1
    assert [s.id for s in sandbox.sessions_tagged(params["metadata"]["test_marker"])] \
        == [sessions[0].id]
    assert under_test.gateway.breaker.state == "closed" and under_test.changes == []


def test_retrieve_and_expire(sandbox: Sandbox, make_gateway: GatewayFactory) -> None:
    gateway = make_gateway().gateway
    created = gateway.create_checkout_session(**checkout_params(sandbox))

    assert gateway.retrieve_checkout_session(created.id) == created
    expired = gateway.expire_checkout_session(created.id)

    assert (expired.id, expired.status, expired.url) == (created.id, "expired", None)
    assert gateway.expire_checkout_session(created.id).status == "expired"


def test_expiring_a_paid_session_returns_it_as_paid(sandbox: Sandbox,
                                                     make_gateway: GatewayFactory) -> None:
    gateway = make_gateway().gateway
    created = gateway.create_checkout_session(**checkout_params(sandbox))
    sandbox.pay(created.id, "pm_card_visa")

    session = gateway.expire_checkout_session(created.id)

    assert (session.status, session.payment_status) == ("complete", "paid")
    assert session.payment_intent_id is not None


def test_a_refused_request_is_raised_at_once_and_not_retried(
        sandbox: Sandbox, make_gateway: GatewayFactory) -> None:
    under_test = make_gateway()
    too_soon = sandbox.now() + 60

    with pytest.raises(StripeRejected) as refused:
        under_test.gateway.create_checkout_session(**checkout_params(sandbox,
                                                                     expires_at=too_soon))

    error = refused.value
    assert (error.http_status, error.param, error.error_type) \
        == (400, "expires_at", "invalid_request_error")
    assert "30 minutes" in error.message
    assert under_test.sleep.delays == []
    assert under_test.gateway.breaker.consecutive_failures == 0


def test_an_unknown_session_is_refused_with_resource_missing(
        make_gateway: GatewayFactory) -> None:
    with pytest.raises(StripeRejected) as refused:
        make_gateway().gateway.retrieve_checkout_session("cs_test_nope")

    assert (refused.value.http_status, refused.value.code) == (404, "resource_missing")


# -- payment details ---------------------------------------------------------------------------
def _paid_with(sandbox: Sandbox, make_gateway: GatewayFactory, payment_method: str,
               **pay: str) -> tuple[CheckoutSessionInfo, str]:
    gateway = make_gateway().gateway
    params = checkout_params(sandbox, request_three_d_secure="threeDSecure" in payment_method)
    created = gateway.create_checkout_session(**params)
    body = sandbox.pay(created.id, payment_method, **pay)
    return created, body["payment_intent"]["id"]


def test_details_of_a_successful_payment(sandbox: Sandbox, make_gateway: GatewayFactory
                                         ) -> None:
    _, intent_id = _paid_with(sandbox, make_gateway, "pm_card_visa")

    details = make_gateway().gateway.payment_details(intent_id)

    assert (details.payment_intent_id, details.status) == (intent_id, "succeeded")
    assert (details.amount, details.currency) == (64200, "usd")
    assert details.charge_id is not None and details.charge_id.startswith("ch_")
    assert (details.card_brand, details.card_last4, details.card_country) \
        == ("visa", "4242", "US")
    assert details.three_d_secure_result is None
    assert details.risk_level == "normal" and isinstance(details.risk_score, int)
    assert details.fee is not None and details.fee > 0
    assert details.net == details.amount - details.fee
    assert (details.failure_code, details.decline_code, details.failure_message) \
        == (None, None, None)


def test_details_of_a_declined_payment(sandbox: Sandbox, make_gateway: GatewayFactory
                                       ) -> None:
    _, intent_id = _paid_with(sandbox, make_gateway,
                              "pm_card_visa_chargeDeclinedInsufficientFunds")

    details = make_gateway().gateway.payment_details(intent_id)

    assert details.status == "requires_payment_method"
    assert (details.failure_code, details.decline_code) == ("card_declined",
                                                            "insufficient_funds")
    assert details.failure_message == "Your card has insufficient funds."
    assert (details.fee, details.net) == (None, None)
    assert details.card_last4 is not None and len(details.card_last4) == 4


def test_details_of_an_authenticated_payment(sandbox: Sandbox, make_gateway: GatewayFactory
                                             ) -> None:
    _, intent_id = _paid_with(sandbox, make_gateway, "pm_card_threeDSecure2Required",
                              three_d_secure="authenticate")

    details = make_gateway().gateway.payment_details(intent_id)

    assert (details.status, details.three_d_secure_result) == ("succeeded", "authenticated")


# -- webhook events ------------------------------------------------------------------------------
def _signed(event: dict[str, object], at: int, secret: str = WHSEC) -> tuple[bytes, str]:
    payload = json.dumps(event)
    return payload.encode(), signature_header(payload, [secret], at)


EVENT = {"id": "evt_1", "object": "event", "type": "checkout.session.completed",
         "data": {"object": {"id": "cs_test_1", "object": "checkout.session"}}}


def test_a_signed_event_is_returned_as_a_dict(make_gateway: GatewayFactory) -> None:
    under_test = make_gateway()
    payload, header = _signed(EVENT, under_test.clock.timestamp())

    assert under_test.gateway.construct_event(payload, header, WHSEC) == EVENT


def test_the_tolerance_is_checked_against_the_service_clock(make_gateway: GatewayFactory
                                                            ) -> None:
    under_test = make_gateway()
    under_test.clock.advance(24 * 3600)  # service and sandbox clocks moved together
    payload, header = _signed(EVENT, under_test.clock.timestamp() - 10)

    assert under_test.gateway.construct_event(payload, header, WHSEC)["id"] == "evt_1"


@pytest.mark.parametrize(("case", "reason"), [
    ("missing", "No Stripe-Signature header value was provided"),
    ("wrong secret", "No signatures found matching the expected signature"),
    ("tampered", "No signatures found matching the expected signature"),
    ("stale", "Timestamp outside the tolerance zone"),
    ("future", "Timestamp outside the tolerance zone"),
])
def test_bad_deliveries_raise_invalid_signature(make_gateway: GatewayFactory, case: str,
                                                reason: str) -> None:
    gateway = make_gateway().gateway
    now = gateway.clock.timestamp()
    at = {"stale": now - 301, "future": now + 301}.get(case, now)
    payload, header = _signed(EVENT, at, "whsec_other" if case == "wrong secret" else WHSEC)
    if case == "tampered":
        payload = payload.replace(b"evt_1", b"evt_2")

    with pytest.raises(InvalidSignature) as raised:
        gateway.construct_event(payload, None if case == "missing" else header, WHSEC)

    assert raised.value.reason.startswith(reason)
