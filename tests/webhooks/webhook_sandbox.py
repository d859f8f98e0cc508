"""Driving a sandbox under test: the official SDK plus the /_sandbox control plane."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, cast

import requests
import stripe

from harness.servers import RunningServer
from simulator.sandbox.webhooks.receiver import WebhookReceiver

TEST_KEY = "sk_test_sandbox_webhook_tests"


@dataclass
class Sandbox:
    """A running sandbox: the official SDK plus its /_sandbox control plane."""

    server: RunningServer
    sdk: stripe.StripeClient

    def control(self, method: str, path: str, **params: Any) -> dict[str, Any]:
        url = f"{self.server.url}/_sandbox{path}"
        if method == "GET":
            response = requests.get(url, params=params, timeout=60)
        else:
            response = requests.request(method, url, data=params, timeout=60)
        response.raise_for_status()
        body: dict[str, Any] = response.json()
        return body

    def drain(self) -> dict[str, Any]:
        return self.control("POST", "/webhooks/drain")

    def advance(self, seconds: int) -> None:
        self.control("POST", "/clock/advance", seconds=seconds)

    def now(self) -> int:
        return int(self.control("GET", "/clock")["now"])

    def deliveries(self, **filters: str) -> list[dict[str, Any]]:
        data: list[dict[str, Any]] = self.control("GET", "/webhooks/deliveries", **filters)["data"]
        return data

    def profile(self, name: str, timeout_seconds: float = 10) -> None:
        self.control("POST", "/webhooks/config", profile=name, timeout_seconds=timeout_seconds)

    def pending_webhooks(self, event_id: str) -> int:
        return int(self.sdk.v1.events.retrieve(event_id).pending_webhooks)

    def create_customer(self, email: str = "ada@example.com") -> str:
        return self.sdk.v1.customers.create(params={"email": email}).id

    def event_for(self, object_id: str, event_type: str = "customer.created") -> str:
        for event in self.sdk.v1.events.list(params={"type": event_type, "limit": 100}).data:
            if event.data.object.id == object_id:
                return str(event.id)
        raise AssertionError(f"no {event_type} event for {object_id}")


def sandbox_at(server: RunningServer) -> Sandbox:
    sdk = stripe.StripeClient(TEST_KEY, base_addresses={"api": server.url},
                              max_network_retries=0)
    return Sandbox(server, sdk)


@dataclass
class Endpoint:
    id: str
    secret: str


def endpoint_for(
    sandbox: Sandbox, receiver: WebhookReceiver, events: list[str], api_version: str | None = None
) -> Iterator[Endpoint]:
    """A webhook endpoint pointing at ``receiver`` (which then verifies with its secret),
    deleted when the generator is closed so later tests don't deliver to it."""
    params: dict[str, Any] = {"url": receiver.url, "enabled_events": events}
    if api_version:
        params["api_version"] = api_version
    created = sandbox.sdk.v1.webhook_endpoints.create(params=cast(Any, params))
    receiver.secrets = [str(created.secret)]
    yield Endpoint(created.id, str(created.secret))
    sandbox.sdk.v1.webhook_endpoints.delete(created.id)
