"""API keys (https://docs.stripe.com/keys): any test-mode secret or restricted key is
accepted, by Bearer or HTTP Basic auth; live, publishable and malformed keys are refused
with Stripe's 401."""

from __future__ import annotations

import re

import pytest
import requests
import stripe

from harness.servers import RunningServer

NO_KEY_MESSAGE = (
    "You did not provide an API key. You need to provide your API key in the Authorization"
    " header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See"
    " https://stripe.com/docs/api#authentication for details, or we can help at"
    " https://support.stripe.com/."
)


def sdk(server: RunningServer, key: str) -> stripe.StripeClient:
    return stripe.StripeClient(key, base_addresses={"api": server.url}, max_network_retries=0)


def assert_unauthorized(response: requests.Response) -> dict[str, str]:
    assert response.status_code == 401
    assert response.headers["Request-Id"].startswith("req_")
    error: dict[str, str] = response.json()["error"]
    # Stripe reports bad keys as invalid_request_error; the SDKs map 401 to AuthenticationError.
    assert error["type"] == "invalid_request_error"
    return error


@pytest.mark.parametrize("key", ["sk_test_51Abc", "sk_test_anything", "rk_test_51Restricted"])
def test_any_test_key_is_accepted_by_the_sdk(sandbox_server: RunningServer, key: str) -> None:
    customer = sdk(sandbox_server, key).v1.customers.create(params={"name": "Keyholder"})
    assert customer.id.startswith("cus_")


@pytest.mark.parametrize("key", ["sk_test_basic_auth", "rk_test_basic_auth"])
def test_http_basic_auth_with_the_key_as_username(sandbox_server: RunningServer, key: str) -> None:
    response = requests.get(f"{sandbox_server.url}/v1/customers", auth=(key, ""), timeout=10)
    assert response.status_code == 200
    assert response.json()["object"] == "list"


def test_bearer_auth_over_raw_http(sandbox_server: RunningServer) -> None:
    response = requests.get(
        f"{sandbox_server.url}/v1/customers",
        headers={"Authorization": "Bearer sk_test_raw_bearer"},
        timeout=10,
    )
    assert response.status_code == 200


@pytest.mark.parametrize("authorization", [None, "", "Bearer ", "Bearer    "])
def test_missing_key_is_refused(sandbox_server: RunningServer, authorization: str | None) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    response = requests.get(f"{sandbox_server.url}/v1/customers", headers=headers, timeout=10)
    error = assert_unauthorized(response)
    assert error["message"] == NO_KEY_MESSAGE


def test_basic_auth_with_empty_username_is_a_missing_key(sandbox_server: RunningServer) -> None:
    response = requests.get(f"{sandbox_server.url}/v1/customers", auth=("", ""), timeout=10)
    assert assert_unauthorized(response)["message"] == NO_KEY_MESSAGE


@pytest.mark.parametrize("key", ["sk_live_51LiveSecretKey9876", "rk_live_51LiveRestricted4321"])
def test_live_keys_are_refused_with_the_key_masked(sandbox_server: RunningServer, key: str) -> None:
    with pytest.raises(stripe.AuthenticationError) as raised:
        sdk(sandbox_server, key).v1.customers.list()
    error = raised.value
    assert error.http_status == 401
    prefix = key[:8]
    message = error.user_message or ""
    assert re.search(rf"{prefix}\*{{4,}}{key[-4:]}", message), message
    assert key not in message, "the full live key must never be echoed back"
    assert message.startswith("Invalid API Key provided: ")


def test_live_key_refused_before_any_write(sandbox_server: RunningServer) -> None:
    email = "live-key-write@example.com"
    with pytest.raises(stripe.AuthenticationError):
        sdk(sandbox_server, "sk_live_51WouldBeRealMoney0000").v1.customers.create(
            params={"email": email}
        )
    found = sdk(sandbox_server, "sk_test_checker").v1.customers.list(params={"email": email})
    assert found.data == []


@pytest.mark.parametrize("key", ["sk_foo_123456", "hello", "sk_test_", "whsec_abcdef123456"])
def test_unknown_key_forms_are_refused(sandbox_server: RunningServer, key: str) -> None:
    with pytest.raises(stripe.AuthenticationError) as raised:
        sdk(sandbox_server, key).v1.customers.list()
    assert raised.value.http_status == 401
    assert (raised.value.user_message or "").startswith("Invalid API Key provided: ")
    if len(key) > 12:
        assert key not in (raised.value.user_message or ""), "keys are shown masked"


def test_publishable_key_is_refused(sandbox_server: RunningServer) -> None:
    with pytest.raises(stripe.AuthenticationError) as raised:
        sdk(sandbox_server, "pk_test_51Publishable").v1.customers.list()
    assert raised.value.http_status == 401
    assert (raised.value.user_message or "").startswith(
        "This API call cannot be made with a publishable API key."
    )


def test_unsupported_auth_scheme_is_refused(sandbox_server: RunningServer) -> None:
    response = requests.get(
        f"{sandbox_server.url}/v1/customers",
        headers={"Authorization": "Token sk_test_abc"},
        timeout=10,
    )
    assert_unauthorized(response)


def test_undecodable_basic_credentials_are_refused(sandbox_server: RunningServer) -> None:
    response = requests.get(
        f"{sandbox_server.url}/v1/customers",
        headers={"Authorization": "Basic %%%not-base64%%%"},
        timeout=10,
    )
    assert_unauthorized(response)


def test_control_plane_needs_no_key(sandbox_server: RunningServer) -> None:
    assert requests.get(f"{sandbox_server.url}/_sandbox/health", timeout=10).status_code == 200
