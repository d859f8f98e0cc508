"""The account's default API version (https://docs.stripe.com/api/versioning): what a
request without ``Stripe-Version`` gets and what events are rendered in, set at start-up
(``SANDBOX_DEFAULT_API_VERSION``, ``stripe-sim sandbox --api-version``) and through the
control plane (``/_sandbox/account``)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests
import stripe

from harness.servers import RunningServer, start_sandbox

KEY = "sk_test_account_versions"
ACCOUNT_VERSION = "2025-09-30.clover"
SDK_VERSION = "2026-10-28.endive"
STARTED_WITH = "2024-06-20"


@pytest.fixture(scope="module")
def versioned_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """A sandbox started with ``SANDBOX_DEFAULT_API_VERSION``."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SANDBOX_DEFAULT_API_VERSION", STARTED_WITH)
        server = start_sandbox(tmp_path_factory.mktemp("versioned"), workers=1, threads=2)
    yield server
    server.stop()


def account(server: RunningServer, **form: str) -> requests.Response:
    url = f"{server.url}/_sandbox/account"
    if form:
        return requests.post(url, data=form, timeout=10)
    return requests.get(url, timeout=10)


def raw(server: RunningServer, method: str, path: str, **form: Any) -> requests.Response:
    return requests.request(method, f"{server.url}{path}", data=form or None, timeout=10,
                            headers={"Authorization": f"Bearer {KEY}"})


def newest_event(server: RunningServer, event_type: str) -> dict[str, Any]:
    events = raw(server, "GET", f"/v1/events?type={event_type}&limit=1").json()["data"]
    assert events, f"no {event_type} event"
    event: dict[str, Any] = events[0]
    return event


def test_the_control_plane_shows_the_account_default(sandbox_server: RunningServer) -> None:
    shown = account(sandbox_server).json()
    assert shown["default_api_version"] == ACCOUNT_VERSION
    assert shown["latest_api_version"] == SDK_VERSION


def test_requests_without_a_version_accept_payment_method_types(
        sandbox_server: RunningServer) -> None:
    response = raw(sandbox_server, "POST", "/v1/payment_intents", amount=2000, currency="usd",
                   **{"payment_method_types[]": "card"})
    assert response.status_code == 200, response.text
    assert response.headers["Stripe-Version"] == ACCOUNT_VERSION
    assert response.json()["payment_method_types"] == ["card"]


def test_the_sdk_pinned_version_is_honoured(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.payment_intents.create(params={  # type: ignore[typeddict-unknown-key]
            "amount": 2000, "currency": "usd", "payment_method_types": ["card"]})
    assert raised.value.code == "parameter_unknown"
    assert raised.value.user_message == "Received unknown parameter: payment_method_types"


def test_events_carry_the_account_version_whatever_the_request_sent(
        sandbox_server: RunningServer, client: stripe.StripeClient) -> None:
    customer = client.v1.customers.create(params={"name": "Versioned events"})
    event = newest_event(sandbox_server, "customer.created")
    assert event["data"]["object"]["id"] == customer.id
    assert event["api_version"] == ACCOUNT_VERSION


def test_events_render_their_object_in_the_account_version(
        sandbox_server: RunningServer, client: stripe.StripeClient) -> None:
    product = client.v1.products.create(params={"name": "Lot 7: walnut desk"})
    price = client.v1.prices.create(params={"product": product.id, "unit_amount": 64200,
                                            "currency": "usd"})
    session = client.v1.checkout.sessions.create(params={
        "mode": "payment", "success_url": "https://shop.example.com/thanks",
        "line_items": [{"price": price.id, "quantity": 1}]})
    assert session.ui_mode == "hosted_page"  # endive's name, in the SDK's version
    client.v1.checkout.sessions.expire(session.id)
    event = newest_event(sandbox_server, "checkout.session.expired")
    assert event["data"]["object"]["id"] == session.id
    assert event["data"]["object"]["ui_mode"] == "hosted"  # clover's name


def test_a_version_given_at_start_up_is_the_default(versioned_sandbox: RunningServer) -> None:
    assert account(versioned_sandbox).json()["default_api_version"] == STARTED_WITH
    response = raw(versioned_sandbox, "GET", "/v1/customers")
    assert response.headers["Stripe-Version"] == STARTED_WITH


def test_the_control_plane_changes_it_until_a_reset(versioned_sandbox: RunningServer) -> None:
    changed = account(versioned_sandbox, default_api_version="2025-03-31.basil")
    assert changed.status_code == 200
    assert changed.json()["default_api_version"] == "2025-03-31.basil"
    raw(versioned_sandbox, "POST", "/v1/customers", name="Basil")
    assert newest_event(versioned_sandbox, "customer.created")["api_version"] == (
        "2025-03-31.basil")
    assert raw(versioned_sandbox, "GET", "/v1/customers").headers["Stripe-Version"] == (
        "2025-03-31.basil")
    requests.post(f"{versioned_sandbox.url}/_sandbox/reset", timeout=10)
    assert account(versioned_sandbox).json()["default_api_version"] == STARTED_WITH


@pytest.mark.parametrize("version", ["2099-01-01", "2025-03-31.clover", "nonsense"])
def test_a_version_stripe_does_not_have_is_refused(versioned_sandbox: RunningServer,
                                                   version: str) -> None:
    refused = account(versioned_sandbox, default_api_version=version)
    assert refused.status_code == 400
    assert refused.json()["error"]["message"] == f"Invalid Stripe API version: {version}"
    assert account(versioned_sandbox).json()["default_api_version"] == STARTED_WITH


def test_the_setting_is_required(versioned_sandbox: RunningServer) -> None:
    refused = requests.post(f"{versioned_sandbox.url}/_sandbox/account", timeout=10)
    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == "parameter_missing"
