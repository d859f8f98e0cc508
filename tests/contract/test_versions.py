"""API versions (https://docs.stripe.com/api/versioning): the account default, a
per-request ``Stripe-Version``, and Stripe's refusal of versions that do not exist."""

from __future__ import annotations

import pytest
import requests
import stripe

from harness.servers import RunningServer

KEY = "sk_test_wire_versions"
DEFAULT_VERSION = "2026-10-28.endive"  # the SDK's pinned version
ACCOUNT_VERSION = "2025-09-30.clover"  # the sandbox account's default


def sdk(server: RunningServer, version: str | None = None) -> stripe.StripeClient:
    return stripe.StripeClient(KEY, base_addresses={"api": server.url}, max_network_retries=0,
                               stripe_version=version)


def test_sdk_pins_the_sandbox_default() -> None:
    assert stripe.api_version == DEFAULT_VERSION


def test_account_default_version_without_a_header(sandbox_server: RunningServer) -> None:
    response = requests.get(f"{sandbox_server.url}/v1/customers?limit=1", timeout=10,
                            headers={"Authorization": f"Bearer {KEY}"})
    assert response.status_code == 200
    assert response.headers["Stripe-Version"] == ACCOUNT_VERSION


def test_sdk_default_version_is_echoed(sandbox_server: RunningServer) -> None:
    customer = sdk(sandbox_server).v1.customers.create(params={"name": "Endive"})
    assert customer.last_response is not None
    assert customer.last_response.headers["Stripe-Version"] == DEFAULT_VERSION


@pytest.mark.parametrize("version", ["2025-03-31.basil", "2025-09-30.clover", "2024-06-20",
                                     "2026-10-28.endive"])
def test_older_versions_are_accepted(sandbox_server: RunningServer, version: str) -> None:
    customer = sdk(sandbox_server, version).v1.customers.create(params={"name": "Versioned"})
    assert customer.last_response is not None
    assert customer.last_response.headers["Stripe-Version"] == version


def test_per_request_version(client: stripe.StripeClient) -> None:
    customer = client.v1.customers.create(params={"name": "Basil"},
                                          options={"stripe_version": "2025-03-31.basil"})
    assert customer.last_response is not None
    assert customer.last_response.headers["Stripe-Version"] == "2025-03-31.basil"


@pytest.mark.parametrize("version", ["2099-01-01", "garbage", "2025-03-31.endive",
                                     "2024-06-20.basil", "2025-02-30.acacia", "2010-12-31"])
def test_unknown_versions_are_refused(sandbox_server: RunningServer, version: str) -> None:
    with pytest.raises(stripe.InvalidRequestError) as raised:
        sdk(sandbox_server, version).v1.customers.list()
    assert raised.value.http_status == 400
    assert raised.value.user_message == f"Invalid Stripe API version: {version}"
    assert raised.value.error is not None
    assert raised.value.error.type == "invalid_request_error"


def test_refused_version_writes_nothing(sandbox_server: RunningServer,
                                        client: stripe.StripeClient) -> None:
    email = "bad-version@example.com"
    response = requests.post(f"{sandbox_server.url}/v1/customers", data={"email": email},
                             headers={"Authorization": f"Bearer {KEY}",
                                      "Stripe-Version": "2099-01-01"}, timeout=10)
    assert response.status_code == 400
    assert response.json()["error"]["message"] == "Invalid Stripe API version: 2099-01-01"
    assert client.v1.customers.list(params={"email": email}).data == []
