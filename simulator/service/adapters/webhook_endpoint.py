"""The service's webhook endpoint at the sandbox, kept across restarts.

Against the sandbox the service registers its own endpoint through the SDK, as
``stripe listen`` would, and keeps the endpoint's id and its ``whsec_`` secret (which
only the create call returns, https://docs.stripe.com/api/webhook_endpoints/create) in
its own database. A restart reuses them, so deliveries Stripe queued while the service
was down still arrive, and still verify. Nothing here ever deletes an endpoint.

When the sandbox rolls the endpoint's secret, deliveries carry a signature for each live
secret; the service reads the new ones from the sandbox's control plane when a delivery
fails to verify (at most once every few seconds) and at start-up. A service whose
database was lost adopts the endpoint an earlier run registered for the same URL rather
than leave it to sign deliveries nobody can verify.

Against real Stripe, ``STRIPE_WEBHOOK_SECRET`` (from ``stripe listen`` or the Dashboard)
is used and nothing here runs.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import requests
import stripe

from simulator.common.clock import Clock, monotonic
from simulator.service.adapters.repositories import Repository
from simulator.service.config import ServiceConfig

log = logging.getLogger("simulator.service.webhook_endpoint")

STATE_KEY = "webhook_endpoint"
ENDPOINT_MARKER = {"registered_by": "stripe-sim service"}
WEBHOOK_PATH = "/payments/webhooks/stripe"


@dataclass(frozen=True)
class WebhookEndpoint:
    id: str
    url: str
    secrets: tuple[str, ...]  # the current secret first

    @property
    def secret(self) -> str:
        return self.secrets[0]

    def to_state(self) -> dict[str, Any]:
        return {"id": self.id, "url": self.url, "secrets": list(self.secrets)}


def webhook_url(config: ServiceConfig) -> str:
    return f"{config.public_url.rstrip('/')}{WEBHOOK_PATH}"


def stripe_client(config: ServiceConfig) -> stripe.StripeClient:
    base = {"api": config.stripe_api_base} if config.stripe_api_base else {}
    return stripe.StripeClient(config.stripe_secret_key, base_addresses=base,  # type: ignore[arg-type]
                               max_network_retries=2)


def stored_endpoint(repo: Repository) -> WebhookEndpoint | None:
    state = repo.get_state(STATE_KEY)
    if not state or not state.get("secrets"):
        return None
    return WebhookEndpoint(state["id"], state["url"], tuple(state["secrets"]))


def save_endpoint(repo: Repository, clock: Clock, endpoint: WebhookEndpoint) -> None:
    with repo.transaction():
        repo.set_state(STATE_KEY, endpoint.to_state(), clock.timestamp())


def ensure_webhook_endpoint(config: ServiceConfig, repo: Repository, clock: Clock,
                            events: Sequence[str]) -> WebhookEndpoint:
    """This service's endpoint at the sandbox, subscribed to ``events`` (the types the
    payments layer has a handler for): the stored one while the sandbox still has it (its
    events brought up to date, its secrets re-read), else one an earlier run registered
    for this URL, else a new one. The result is stored."""
    if config.uses_real_stripe:
        raise RuntimeError("against real Stripe set STRIPE_WEBHOOK_SECRET instead")
    client = stripe_client(config)
    url = webhook_url(config)
    stored = stored_endpoint(repo)
    endpoint = None
    if stored is not None and stored.url == url and _still_there(client, stored.id, events):
        endpoint = read_secrets(config, stored.id, url) or stored
    endpoint = endpoint or _adopt(client, config, url) or register_webhook_endpoint(config, events)
    save_endpoint(repo, clock, endpoint)
    return endpoint


class SandboxUnreachable(RuntimeError):
    """The sandbox cannot be reached and no endpoint of this service is stored."""


def endpoint_at_start(config: ServiceConfig, repo: Repository, clock: Clock,
                      events: Sequence[str]) -> tuple[WebhookEndpoint, bool]:
    """The endpoint to start with and whether the sandbox confirmed it. A sandbox that is
    down (rebooted after the service, say) still has the stored endpoint in its own
    database: the service starts with it and the secrets it knows, and re-reads them when
    a delivery does not verify."""
    try:
        return ensure_webhook_endpoint(config, repo, clock, events), True
    except (stripe.APIConnectionError, requests.ConnectionError) as error:
        stored = stored_endpoint(repo)
        if stored is None or stored.url != webhook_url(config):
            raise SandboxUnreachable(
                f"the sandbox at {config.stripe_api_base} cannot be reached, and this"
                " service has no webhook endpoint there yet: start the sandbox first") from error
        log.warning("the sandbox at %s cannot be reached; starting with the stored webhook"
                    " endpoint %s", config.stripe_api_base, stored.id)
        return stored, False


def _still_there(client: stripe.StripeClient, endpoint_id: str,
                 events: Sequence[str]) -> bool:
    """Whether the sandbox still has the endpoint; its events are brought up to date."""
    try:
        found = client.v1.webhook_endpoints.retrieve(endpoint_id)
    except stripe.InvalidRequestError:
        return False  # the sandbox was reset or its data removed
    if sorted(found.enabled_events) != sorted(events) or found.status != "enabled":
        params: Any = {"enabled_events": list(events), "disabled": False}
        client.v1.webhook_endpoints.update(endpoint_id, params=params)
    return True


def _adopt(client: stripe.StripeClient, config: ServiceConfig,
           url: str) -> WebhookEndpoint | None:
    """The newest endpoint an earlier run registered for ``url``, with the secrets of
    every such endpoint (all of them may still deliver)."""
    ours = [e for e in client.v1.webhook_endpoints.list(params={"limit": 100}).auto_paging_iter()
            if e.url == url and (e.to_dict().get("metadata") or {}) == ENDPOINT_MARKER]
    if not ours:
        return None
    ours.sort(key=lambda e: (e.created, e.id), reverse=True)
    found = [read_secrets(config, e.id, url) for e in ours]
    secrets = tuple(s for endpoint in found if endpoint for s in endpoint.secrets)
    if not secrets:
        return None
    log.info("adopted webhook endpoint %s for %s", ours[0].id, url)
    return WebhookEndpoint(ours[0].id, url, tuple(dict.fromkeys(secrets)))


def read_secrets(config: ServiceConfig, endpoint_id: str, url: str) -> WebhookEndpoint | None:
    """The endpoint's live secrets from the sandbox's control plane; None when the
    server is not our sandbox or cannot say."""
    try:
        answer = requests.get(
            f"{config.stripe_api_base}/_sandbox/webhooks/endpoints/{endpoint_id}/secrets",
            timeout=config.stripe_timeout_seconds)
        body = answer.json() if answer.status_code == 200 else {}
    except (requests.RequestException, ValueError):
        return None
    secrets = [body.get("secret"), *(body.get("previous") or [])]
    live = tuple(s for s in secrets if isinstance(s, str) and s)
    return WebhookEndpoint(endpoint_id, url, live) if live else None


def register_webhook_endpoint(config: ServiceConfig, events: Sequence[str]) -> WebhookEndpoint:
    """A new endpoint for this service's URL, subscribed to ``events``."""
    client = stripe_client(config)
    url = webhook_url(config)
    params: Any = {"url": url, "enabled_events": list(events),
                   "description": "Payment service (story 12.1)", "metadata": ENDPOINT_MARKER}
    created = client.v1.webhook_endpoints.create(params=params)
    log.info("registered webhook endpoint %s for %s", created.id, url)
    return WebhookEndpoint(created.id, url, (str(created.secret),))


def delete_webhook_endpoint(config: ServiceConfig, endpoint_id: str) -> None:
    """For tests that start many services on one sandbox; the service never calls it."""
    stripe_client(config).v1.webhook_endpoints.delete(endpoint_id)


class EndpointSecrets:
    """The secrets deliveries are verified with: ``STRIPE_WEBHOOK_SECRET`` when set,
    else this service's endpoint at the sandbox, re-read when a delivery fails to verify
    (another worker may have stored a roll already; else the sandbox is asked)."""

    REFRESH_EVERY_SECONDS = 5.0

    def __init__(self, config: ServiceConfig, repo: Repository, clock: Clock,
                 endpoint: WebhookEndpoint | None) -> None:
        self.config = config
        self.repo = repo
        self.clock = clock
        self.endpoint = endpoint
        self._fixed = (config.stripe_webhook_secret,) if config.stripe_webhook_secret else ()
        self._refreshed_at = float("-inf")
        self._lock = threading.Lock()

    @property
    def endpoint_id(self) -> str | None:
        return self.endpoint.id if self.endpoint else None

    def current(self) -> tuple[str, ...]:
        return self._fixed or (self.endpoint.secrets if self.endpoint else ())

    def refresh(self) -> bool:
        """Whether new secrets were found; at most once per ``REFRESH_EVERY_SECONDS``. A
        thread arriving during another's refresh waits for its result."""
        if self._fixed or self.endpoint is None:
            return False
        with self._lock:
            if monotonic() - self._refreshed_at < self.REFRESH_EVERY_SECONDS:
                return False
            return self._reread()

    def _reread(self) -> bool:
        assert self.endpoint is not None
        self._refreshed_at = monotonic()
        before = self.endpoint.secrets
        stored = stored_endpoint(self.repo)
        if stored is not None and stored.id == self.endpoint.id and stored.secrets != before:
            self.endpoint = stored
            return True
        fresh = read_secrets(self.config, self.endpoint.id, self.endpoint.url)
        if fresh is None or fresh.secrets == before:
            return False
        self.endpoint = fresh
        save_endpoint(self.repo, self.clock, fresh)
        log.info("webhook endpoint %s: signing secret rolled", fresh.id)
        return True
