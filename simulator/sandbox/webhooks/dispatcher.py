"""Sending queued deliveries: sign, POST, record, retry.

Each server process runs one dispatcher thread. It wakes at once when this process
commits an event (so a delivery leaves within milliseconds), polls every 50 ms while
there is work and backs off to 250 ms when idle. Deliveries are claimed in the database
with a lease, so the dispatchers of several processes share the work without ever
attempting one delivery twice at once. ``drain`` does the same work synchronously for
tests and after the sandbox clock moves.

What a delivery looks like follows https://docs.stripe.com/webhooks: a POST of the event
JSON with a ``Stripe-Signature`` header; any 2xx is success, anything else (another
status, a redirect, a timeout, a refused connection) is retried on the retry profile.
"""

from __future__ import annotations

import json
import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import requests

from simulator.common.clock import monotonic, system_time
from simulator.sandbox.resources.base import Ctx, find
from simulator.sandbox.resources.event import Event
from simulator.sandbox.resources.webhook_endpoint import WebhookEndpoint
from simulator.sandbox.runtime import Runtime
from simulator.sandbox.webhooks import outbox
from simulator.sandbox.webhooks import settings as config
from simulator.sandbox.webhooks.schedule import next_attempt_at
from simulator.sandbox.webhooks.signing import signature_header

log = logging.getLogger(__name__)

# Headers Stripe's webhook sender uses (as seen by receivers).
USER_AGENT = "Stripe/1.0 (+https://stripe.com/docs/webhooks)"
BASE_HEADERS = {
    "Content-Type": "application/json; charset=utf-8",
    "User-Agent": USER_AGENT,
    "Cache-Control": "no-cache",
    "Accept": "*/*; q=0.5, application/xml",
}
BUSY_POLL_SECONDS = 0.05
IDLE_POLL_SECONDS = 0.25
# A lease outlives the HTTP timeout (every claim of a round is attempted at once, then
# recorded), so a live attempt is never taken over by another process.
LEASE_MARGIN_SECONDS = 2.0
CONCURRENCY = 8
BATCH = CONCURRENCY


@dataclass
class Tally:
    """What a round of delivery did."""

    attempted: int = 0
    delivered: int = 0
    retrying: int = 0
    failed: int = 0

    def add(self, status: outbox.Status) -> None:
        self.attempted += 1
        if status == "delivered":
            self.delivered += 1
        elif status == "pending":
            self.retrying += 1
        else:
            self.failed += 1

    def to_dict(self) -> dict[str, int]:
        return {"attempted": self.attempted, "delivered": self.delivered,
                "retrying": self.retrying, "failed": self.failed}

    def merge(self, other: Tally) -> None:
        self.attempted += other.attempted
        self.delivered += other.delivered
        self.retrying += other.retrying
        self.failed += other.failed


@dataclass(frozen=True)
class SignedRequest:
    url: str
    payload: str
    headers: dict[str, str]


def build_request(
    event: Event,
    endpoint: WebhookEndpoint,
    endpoint_settings: config.EndpointDelivery,
    claim: outbox.Claim,
    now: float,
) -> SignedRequest:
    """The event as Stripe POSTs it: pretty-printed JSON signed at sandbox time ``now``."""
    payload = json.dumps(render_event(event, claim), indent=2)
    timestamp = int(now)
    if endpoint_settings.chaos.stale_timestamp:
        timestamp -= config.STALE_TIMESTAMP_SECONDS
    secrets = [endpoint.secret, *endpoint_settings.live_secrets(now)]
    headers = {**BASE_HEADERS, "Stripe-Signature": signature_header(payload, secrets, timestamp)}
    return SignedRequest(endpoint.url, payload, headers)


def render_event(event: Event, claim: outbox.Claim) -> dict[str, Any]:
    """The stored event, with ``data.object`` in the endpoint's pinned API version when
    it was rendered at queue time; ``pending_webhooks`` is the count as of sending."""
    body: dict[str, Any] = {
        "id": event.id,
        "object": "event",
        "api_version": event.api_version,
        "created": event.created,
        "data": dict(event.data),
        "livemode": False,
        "pending_webhooks": event.pending_webhooks,
        "request": event.request,
        "type": event.type,
    }
    if claim.object_override is not None and claim.api_version:
        body["api_version"] = claim.api_version
        body["data"]["object"] = json.loads(claim.object_override)
    return body


class Dispatcher:
    """Delivers one sandbox's queued webhooks from this process."""

    def __init__(self, rt: Runtime, concurrency: int = CONCURRENCY) -> None:
        self.rt = rt
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._local = threading.local()
        self._pool = ThreadPoolExecutor(concurrency, thread_name_prefix="webhook-sender")
        self._thread: threading.Thread | None = None

    # -- triggers -----------------------------------------------------------------------
    def wake(self) -> None:
        """Called when this process queues a delivery (before its commit: the claim
        waits on the writer lock until the commit, then sees the rows)."""
        self._wake.set()

    def start(self) -> threading.Thread:
        self._thread = threading.Thread(target=self._run, name="webhook-dispatcher",
                                        daemon=True)
        self._thread.start()
        return self._thread

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()

    def _run(self) -> None:
        interval = IDLE_POLL_SECONDS
        while not self._stop.is_set():
            woken = self._wake.wait(interval)
            self._wake.clear()
            try:
                worked = self._poll(woken)
            except Exception:  # keep dispatching; the claim's lease makes it retry
                log.exception("webhook dispatch round failed")
                worked = False
            interval = 0.0 if worked else _back_off(interval)

    def _poll(self, woken: bool) -> bool:
        if self.rt.background_delivery_held():
            return False  # a clock jump delivers, step by step (``timeline.py``)
        if not woken and not outbox.has_due(self.rt.store, self.rt.clock.now(), system_time()):
            return False
        return self.deliver_round().attempted > 0

    # -- delivering ---------------------------------------------------------------------
    def deliver_round(self, held: bool = False, limit: int = BATCH) -> Tally:
        """Claim up to ``limit`` due deliveries and attempt them (held ones one by one,
        newest first; the others concurrently), then record the attempts."""
        timeout = config.sandbox_settings(self.rt.store).timeout_seconds
        claims = self._claim(held, limit, timeout + LEASE_MARGIN_SECONDS)
        ctx = self._ctx(self.rt.clock.now())
        statuses: list[outbox.Status] = []
        if held:  # one at a time, so that they arrive in the order claimed
            for claim in claims:
                statuses += outbox.record_attempts(ctx, [self.attempt(claim, timeout)])
        elif claims:
            made = list(self._pool.map(lambda claim: self.attempt(claim, timeout), claims))
            statuses = outbox.record_attempts(ctx, made)
        tally = Tally()
        for status in statuses:
            tally.add(status)
        return tally

    def _claim(self, held: bool, limit: int, lease_seconds: float) -> list[outbox.Claim]:
        return outbox.claim_due(
            self.rt.store,
            now=self.rt.clock.now(),
            system_now=system_time(),
            lease_seconds=lease_seconds,
            # Never from a seeded generator: every worker process would draw the same.
            token=self.rt.ids.secret("lease", 20),
            limit=limit,
            held=held,
        )

    def drain(self) -> Tally:
        """Deliver everything due now: held deliveries first (newest first), then the
        rest, waiting for attempts other threads or processes have in flight."""
        tally = Tally()
        while (held := self.deliver_round(held=True)).attempted:
            tally.merge(held)
        # Long enough for a lease taken just now to run out, then for one more attempt.
        lease = config.sandbox_settings(self.rt.store).timeout_seconds + LEASE_MARGIN_SECONDS
        deadline = monotonic() + 2 * lease + 1
        while True:
            done = self.deliver_round()
            tally.merge(done)
            if done.attempted:
                continue
            busy = outbox.in_flight(self.rt.store, self.rt.clock.now(), system_time())
            if not busy or monotonic() > deadline:
                return tally
            self._stop.wait(BUSY_POLL_SECONDS / 2)

    def attempt(self, claim: outbox.Claim, timeout: float) -> outbox.Attempted:
        """One attempt of one claimed delivery (the caller records it)."""
        now = self.rt.clock.now()
        ctx = self._ctx(now)
        with self.rt.store.read():
            event = find(ctx, Event, claim.event_id)
            endpoint = find(ctx, WebhookEndpoint, claim.endpoint_id)
            endpoint_settings = config.endpoint_settings(self.rt.store, claim.endpoint_id)
        reason = _undeliverable(event, endpoint)
        if reason is not None or event is None or endpoint is None:
            outcome = outbox.Outcome(endpoint.url if endpoint else "", now, 0.0, error=reason)
            return outbox.Attempted(claim, outcome)
        request = build_request(event, endpoint, endpoint_settings, claim, now)
        outcome = self._post(request, now, timeout)
        retry_at = None
        if not outcome.succeeded:
            retry = config.retry_policy(self.rt.store, endpoint_settings)
            retry_at = next_attempt_at(retry, claim.attempt, claim.created, claim.due_at, now)
        return outbox.Attempted(claim, outcome, retry_at)

    def _post(self, request: SignedRequest, now: float, timeout: float) -> outbox.Outcome:
        started = monotonic()
        try:
            response = self._session().post(
                request.url,
                data=request.payload.encode("utf-8"),
                headers=request.headers,
                timeout=timeout,
                allow_redirects=False,
            )
        except requests.Timeout:
            error = f"Timed out after {timeout:g} seconds"
            return outbox.Outcome(request.url, now, _ms_since(started), error=error)
        except requests.RequestException as exc:
            error = f"Connection error: {type(exc).__name__}: {exc}"
            return outbox.Outcome(request.url, now, _ms_since(started), error=error)
        return outbox.Outcome(
            request.url, now, _ms_since(started), status_code=response.status_code,
            body=response.text[: outbox.RESPONSE_EXCERPT_CHARS],
        )

    def _session(self) -> requests.Session:
        session: requests.Session | None = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            session.headers.clear()  # exactly Stripe's headers, no Accept-Encoding
            session.trust_env = False  # never send a local receiver's traffic via a proxy
            # https endpoints are verified, against the configured CA bundle if any.
            session.verify = self.rt.config.webhook_ca_bundle or True
            self._local.session = session
        return session

    def _ctx(self, now: float) -> Ctx:
        return Ctx(store=self.rt.store, now=int(now), ids=self.rt.ids,
                   base_url=self.rt.public_url(""), sink=self.rt.event_sink)


def _undeliverable(event: Event | None, endpoint: WebhookEndpoint | None) -> str | None:
    """Why a delivery fails for good without a request: Stripe stops sending to an
    endpoint once it is deleted or disabled."""
    if endpoint is None or endpoint.deleted:
        return "webhook endpoint deleted"
    if endpoint.status != "enabled":
        return "webhook endpoint disabled"
    if event is None:
        return "event no longer exists"
    return None


def _ms_since(started: float) -> float:
    return (monotonic() - started) * 1000


def _back_off(interval: float) -> float:
    return min(max(interval * 2, BUSY_POLL_SECONDS), IDLE_POLL_SECONDS)
