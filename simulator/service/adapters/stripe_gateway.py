"""The service's only way to Stripe: the official SDK, with our own retries, timeouts and
a circuit breaker.

The SDK's own retries are off (``max_network_retries=0``) so that every attempt passes
through the breaker and the backoff below. What is retried follows the SDK's rules
(https://docs.stripe.com/error-low-level#server-errors): connection errors and timeouts,
409 conflicts, 429 rate limits (https://docs.stripe.com/rate-limits) and 5xx, with
``Stripe-Should-Retry`` overriding. Every POST carries an idempotency key, so a retried
create can never make a second object (https://docs.stripe.com/api/idempotent_requests).
"""

from __future__ import annotations

import json
import logging
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import quote_plus

import stripe

from simulator.common.clock import Clock
from simulator.service.adapters.circuit_breaker import CircuitBreaker, StateListener
from simulator.service.adapters.errors import (
    InvalidSignature,
    PaymentsUnavailable,
    StripeRejected,
    UnavailableReason,
)
from simulator.service.config import ServiceConfig

__all__ = [
    "CheckoutSessionInfo",
    "InvalidSignature",
    "PaymentDetails",
    "PaymentsUnavailable",
    "StripeGateway",
    "StripeRejected",
]

log = logging.getLogger("simulator.service.stripe_gateway")

BACKOFF_BASE_SECONDS = 0.25
BACKOFF_CAP_SECONDS = 8.0
RETRY_AFTER_CAP_SECONDS = 8.0
WEBHOOK_TOLERANCE_SECONDS = 300
_JITTER_STEPS = 1_000_000

T = TypeVar("T")
Sleep = Callable[[float], None]
Jitter = Callable[[float], float]


@dataclass(frozen=True)
class CheckoutSessionInfo:
    id: str
    url: str | None
    status: str
    payment_status: str
    expires_at: int
    payment_intent_id: str | None
    amount_total: int
    currency: str
    metadata: dict[str, str]


@dataclass(frozen=True)
class RefundInfo:
    id: str
    status: str  # pending, requires_action, succeeded, failed, canceled
    amount: int


@dataclass(frozen=True)
class PaymentDetails:
    """What the service keeps of a payment: never a card number, only brand and last 4."""

    payment_intent_id: str
    status: str
    amount: int
    currency: str
    charge_id: str | None
    card_brand: str | None
    card_last4: str | None
    card_country: str | None
    three_d_secure_result: str | None
    risk_level: str | None
    risk_score: int | None
    fee: int | None
    net: int | None
    failure_code: str | None
    decline_code: str | None
    failure_message: str | None
    # Ours when set: the metadata the service puts on every PaymentIntent it starts.
    payment_session_id: str | None = None
    # Stripe's card fingerprint: the same card number gives the same value (fraud rules).
    card_fingerprint: str | None = None


@dataclass(frozen=True)
class _Transient:
    """A failed attempt that says nothing about the request itself. ``outage`` is false
    for a 409: Stripe answered that a request with the same idempotency key is still
    running, which shows it is up, so the breaker does not count it."""

    description: str
    retry: bool
    retry_after: float | None = None
    outage: bool = True


def full_jitter(ceiling: float) -> float:
    """A delay drawn uniformly from [0, ceiling] ("full jitter", so that clients that
    failed together do not retry together)."""
    return ceiling * secrets.randbelow(_JITTER_STEPS + 1) / _JITTER_STEPS


def backoff_delay(attempt: int, *, retry_after: float | None = None,
                  base: float = BACKOFF_BASE_SECONDS, cap: float = BACKOFF_CAP_SECONDS,
                  jitter: Jitter = full_jitter) -> float:
    """The wait after failed attempt ``attempt`` (1-based): full jitter over
    ``min(cap, base * 2**(attempt - 1))``, but never less than a 429's ``Retry-After``
    (itself capped, so a buyer's request stays bounded)."""
    delay = jitter(min(cap, base * 2 ** (attempt - 1)))
    if retry_after is not None:
        delay = max(delay, min(retry_after, RETRY_AFTER_CAP_SECONDS))
    return delay


class StripeGateway:
    def __init__(self, config: ServiceConfig, clock: Clock, *, sleep: Sleep = time.sleep,
                 jitter: Jitter = full_jitter,
                 on_state_change: StateListener | None = None) -> None:
        self.config = config
        self.clock = clock
        self._sleep = sleep
        self._jitter = jitter
        self.breaker = CircuitBreaker(
            failure_threshold=config.circuit_failure_threshold,
            reset_seconds=config.circuit_reset_seconds,
            clock=clock,
            on_state_change=on_state_change,
        )
        self.client = _stripe_client(config)

    # -- Checkout Sessions -------------------------------------------------------------
    def create_checkout_session(
        self, *, idempotency_key: str, amount: int, currency: str, description: str,
        customer_email: str | None, success_url: str, cancel_url: str, expires_at: int,
        metadata: Mapping[str, str], request_three_d_secure: bool,
    ) -> CheckoutSessionInfo:
        """One hosted Checkout Session for one line item. The metadata is copied onto
        the PaymentIntent as well, so ``payment_intent.*`` events can be matched.
        ``request_three_d_secure`` asks for 3-D Secure whenever the card supports it
        (``any``: https://docs.stripe.com/payments/3d-secure/authentication-flow)."""
        params: dict[str, Any] = {
            "mode": "payment",
            "line_items": [{
                "price_data": {"currency": currency, "unit_amount": amount,
                               "product_data": {"name": description}},
                "quantity": 1,
            }],
            "success_url": success_url,
            "cancel_url": cancel_url,
            "expires_at": expires_at,
            "metadata": dict(metadata),
            "payment_intent_data": {"description": description, "metadata": dict(metadata)},
            "payment_method_options": {"card": {
                "request_three_d_secure": "any" if request_three_d_secure else "automatic",
            }},
        }
        if customer_email:
            params["customer_email"] = customer_email
        return _session_info(self._request("create checkout session", "post",
                                           "/v1/checkout/sessions", params, idempotency_key))

    def retrieve_checkout_session(self, session_id: str) -> CheckoutSessionInfo:
        return _session_info(self._request("retrieve checkout session", "get",
                                           f"/v1/checkout/sessions/{quote_plus(session_id)}"))

    def expire_checkout_session(self, session_id: str) -> CheckoutSessionInfo:
        """Expire an open session; a session that is already complete or expired is
        returned as it is (Stripe answers 400 for those:
        https://docs.stripe.com/api/checkout/sessions/expire). The idempotency key is
        derived from the session, so a retry after a lost answer replays the first."""
        try:
            session = self._request("expire checkout session", "post",
                                    f"/v1/checkout/sessions/{quote_plus(session_id)}/expire",
                                    idempotency_key=f"expire-{session_id}")
        except StripeRejected:
            current = self.retrieve_checkout_session(session_id)
            if current.status == "open":
                raise
            return current
        return _session_info(session)

    # -- payments -----------------------------------------------------------------------
    def refund_payment(self, payment_intent_id: str, *, idempotency_key: str) -> RefundInfo:
        """Refund a payment in full (https://docs.stripe.com/api/refunds/create). The same
        key on a second request replays the first refund instead of making another."""
        refund = self._request("create refund", "post", "/v1/refunds",
                               {"payment_intent": payment_intent_id}, idempotency_key)
        return RefundInfo(str(refund["id"]), str(refund.get("status") or ""),
                          int(refund.get("amount") or 0))

    def payment_details(self, payment_intent_id: str) -> PaymentDetails:
        """The PaymentIntent with its latest charge and that charge's balance
        transaction expanded (https://docs.stripe.com/expand): card brand, last 4 and
        country, the 3-D Secure result, Radar's risk, Stripe's fee and the net."""
        path = f"/v1/payment_intents/{quote_plus(payment_intent_id)}"
        return _payment_details(self._request("retrieve payment intent", "get", path, {
            "expand": ["latest_charge.balance_transaction"]}))

    # -- webhooks -----------------------------------------------------------------------
    def construct_event(self, payload: bytes, sig_header: str | None, secret: str,
                        tolerance: int = WEBHOOK_TOLERANCE_SECONDS) -> dict[str, Any]:
        """Verify ``Stripe-Signature`` with the SDK, then check its timestamp against
        the service's clock, in both directions (the SDK compares with system time, and
        only for old timestamps). https://docs.stripe.com/webhooks#verify-events"""
        try:
            stripe.WebhookSignature.verify_header(payload, sig_header, secret, None)
        except stripe.SignatureVerificationError as error:
            raise InvalidSignature(error.user_message or "invalid signature") from None
        assert sig_header is not None  # verify_header refuses a missing header
        skew = abs(self.clock.now() - _signed_at(sig_header))
        if skew > tolerance:
            raise InvalidSignature(f"Timestamp outside the tolerance zone ({int(skew)} s)")
        try:
            event = json.loads(payload)
        except ValueError:
            raise InvalidSignature("The payload is not JSON") from None
        if not isinstance(event, dict) or not isinstance(event.get("type"), str):
            raise InvalidSignature("The payload is not a Stripe event")
        return event

    # -- retries and the breaker --------------------------------------------------------
    def _request(self, operation: str, method: str, path: str,
                 params: Mapping[str, Any] | None = None,
                 idempotency_key: str | None = None) -> dict[str, Any]:
        """One SDK request (``raw_request``: the same wire request, headers and errors
        as the typed services), through ``_call``; the answer as the JSON dict Stripe
        sent. The typed services would build a tree of ``StripeObject`` from it that
        the service turns straight back into a dict: most of the CPU a Stripe call
        costs the service."""
        options = {"idempotency_key": idempotency_key} if idempotency_key else {}
        response = self._call(operation, lambda: self.client.raw_request(
            method, path, **(params or {}), **options))
        data: dict[str, Any] = response.data
        return data

    def _call(self, operation: str, request: Callable[[], T]) -> T:
        """Up to ``stripe_max_attempts`` attempts, each one let through by the breaker.
        A 4xx other than 409/429 is raised at once as ``StripeRejected`` and counts as
        Stripe being up; a 409 is retried and also counts as up; connection errors,
        timeouts, 429 and 5xx are failures, retried after a backoff."""
        attempts = self.config.stripe_max_attempts
        for attempt in range(1, attempts + 1):
            if not self.breaker.allow():
                log.warning("%s: circuit open, Stripe not called", operation)
                raise PaymentsUnavailable("circuit_open", attempts=attempt - 1)
            try:
                result = request()
            except stripe.StripeError as error:
                failure = _classify(error)
            else:
                self.breaker.record_success()
                return result
            self._after_failure(operation, attempt, attempts, failure)
        raise AssertionError("unreachable: the last attempt raises")

    def _after_failure(self, operation: str, attempt: int, attempts: int,
                       failure: _Transient | StripeRejected) -> None:
        """Raise, or sleep before the next attempt."""
        if isinstance(failure, StripeRejected):
            self.breaker.record_success()
            raise failure
        if failure.outage:
            self.breaker.record_failure()
        else:
            self.breaker.record_success()
        if self.breaker.state == "open":
            raise PaymentsUnavailable("circuit_open", attempts=attempt,
                                      last_error=failure.description)
        if not failure.retry or attempt == attempts:
            reason: UnavailableReason = "retries_exhausted" if failure.retry else "not_retryable"
            log.error("%s failed after %d attempt(s): %s", operation, attempt,
                      failure.description)
            raise PaymentsUnavailable(reason, attempts=attempt, last_error=failure.description)
        delay = backoff_delay(attempt, retry_after=failure.retry_after, jitter=self._jitter)
        log.warning("%s: attempt %d/%d failed (%s); retrying in %.2f s", operation, attempt,
                    attempts, failure.description, delay)
        self._sleep(delay)


# -- the SDK client -------------------------------------------------------------------------
def _stripe_client(config: ServiceConfig) -> stripe.StripeClient:
    """The sandbox when ``stripe_api_base`` is set, real Stripe otherwise. The timeout
    applies to connecting and to reading the answer."""
    http_client = stripe.RequestsClient(timeout=config.stripe_timeout_seconds)
    if config.stripe_api_base is None:
        return stripe.StripeClient(config.stripe_secret_key, max_network_retries=0,
                                   http_client=http_client)
    return stripe.StripeClient(config.stripe_secret_key,
                               base_addresses={"api": config.stripe_api_base},
                               max_network_retries=0, http_client=http_client)


# -- error classification ---------------------------------------------------------------
def _classify(error: stripe.StripeError) -> _Transient | StripeRejected:
    """Connection errors, 409, 429 and 5xx are transient; ``Stripe-Should-Retry``
    overrides (https://docs.stripe.com/error-low-level#idempotency); any other 4xx is
    a request Stripe refused."""
    status = error.http_status
    description = _describe(error)
    if isinstance(error, stripe.APIConnectionError):
        return _Transient(description, retry=error.should_retry)
    should_retry = _header(error.headers, "Stripe-Should-Retry")
    if status == 429:
        return _Transient(description, retry=should_retry != "false",
                          retry_after=_retry_after(error.headers))
    if status == 409:
        return _Transient(description, retry=should_retry != "false", outage=False)
    if status is None or status >= 500 or should_retry == "true":
        return _Transient(description, retry=should_retry != "false")
    return _rejected(error)


def _describe(error: stripe.StripeError) -> str:
    """For logs: the class, the status and the message's first sentence."""
    message = " ".join((error.user_message or "").split()).split(". ")[0][:160]
    parts = [type(error).__name__, str(error.http_status or ""), message]
    return " ".join(part for part in parts if part)


def _rejected(error: stripe.StripeError) -> StripeRejected:
    details = error.error
    rejected = StripeRejected(
        code=error.code,
        param=getattr(details, "param", None),
        message=error.user_message or "",
        http_status=error.http_status,
        error_type=getattr(details, "type", None),
        decline_code=getattr(details, "decline_code", None),
        request_id=error.request_id,
    )
    rejected.__cause__ = error  # raised later, away from the except block: keep the chain
    return rejected


def _header(headers: Mapping[str, str] | None, name: str) -> str | None:
    for key, value in (headers or {}).items():
        if key.lower() == name.lower():
            return value
    return None


def _retry_after(headers: Mapping[str, str] | None) -> float | None:
    """``Retry-After`` in seconds; the HTTP-date form is ignored (Stripe sends
    seconds), and so is anything negative or unreadable."""
    raw = _header(headers, "Retry-After")
    try:
        seconds = float(raw) if raw is not None else None
    except ValueError:
        return None
    return seconds if seconds is not None and seconds >= 0 else None


def _signed_at(sig_header: str) -> int:
    for item in sig_header.split(","):
        key, _, value = item.strip().partition("=")
        if key == "t" and value.isdigit():
            return int(value)
    raise InvalidSignature("Unable to extract timestamp and signatures from header")


# -- reading Stripe objects -----------------------------------------------------------------
def _dig(data: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


def _object_id(value: Any) -> str | None:
    """An expandable field: an id, an expanded object, or null."""
    if isinstance(value, dict):
        return str(value["id"])
    return value if isinstance(value, str) else None


def _session_info(session: dict[str, Any]) -> CheckoutSessionInfo:
    return CheckoutSessionInfo(
        id=session["id"],
        url=session.get("url"),
        status=session["status"],
        payment_status=session["payment_status"],
        expires_at=int(session["expires_at"]),
        payment_intent_id=_object_id(session.get("payment_intent")),
        amount_total=int(session.get("amount_total") or 0),
        currency=session["currency"],
        metadata={str(k): str(v) for k, v in (session.get("metadata") or {}).items()},
    )


def _failed_charge_reason(charge: dict[str, Any]) -> str | None:
    return _dig(charge, "outcome", "reason") if charge.get("status") == "failed" else None


def _payment_details(intent: dict[str, Any]) -> PaymentDetails:
    """Card facts come from the latest charge; the failure from ``last_payment_error``
    (https://docs.stripe.com/declines/codes), else from a failed charge."""
    charge = intent.get("latest_charge")
    charge = charge if isinstance(charge, dict) else {}
    card = _dig(charge, "payment_method_details", "card") or {}
    balance = charge.get("balance_transaction")
    balance = balance if isinstance(balance, dict) else {}
    error = intent.get("last_payment_error") or {}
    return PaymentDetails(
        payment_intent_id=intent["id"],
        status=intent["status"],
        amount=int(intent["amount"]),
        currency=intent["currency"],
        charge_id=charge.get("id") or _object_id(intent.get("latest_charge")),
        card_brand=card.get("brand"),
        card_last4=card.get("last4"),
        card_country=card.get("country"),
        three_d_secure_result=_dig(card, "three_d_secure", "result"),
        risk_level=_dig(charge, "outcome", "risk_level"),
        risk_score=_dig(charge, "outcome", "risk_score"),
        fee=balance.get("fee"),
        net=balance.get("net"),
        failure_code=error.get("code") or charge.get("failure_code"),
        decline_code=error.get("decline_code") or _failed_charge_reason(charge),
        failure_message=error.get("message") or charge.get("failure_message"),
        payment_session_id=(intent.get("metadata") or {}).get("payment_session_id"),
        card_fingerprint=card.get("fingerprint"),
    )
