"""Errors on the wire (https://docs.stripe.com/api/errors): Request-Id on every answer,
Stripe's JSON error object and wording, injected faults the SDK must classify, and
malformed input that must never become a 500."""

from __future__ import annotations

import random
import string
import time
import urllib.parse
from typing import Any

import pytest
import requests
import stripe

from harness.servers import RunningServer

KEY = "sk_test_wire_errors"
ERROR_TYPES = {
    "api_error", "card_error", "idempotency_error", "invalid_request_error",
}
UNRECOGNIZED = (
    "Unrecognized request URL ({method}: {path}). Please see https://stripe.com/docs or we"
    " can help at https://support.stripe.com/."
)


def inject(url: str, **form: str | int) -> dict[str, object]:
    response = requests.post(url, data=form, timeout=10)
    assert response.status_code == 200, response.text
    fault: dict[str, object] = response.json()["fault"]
    return fault


def assert_stripe_error(response: requests.Response) -> dict[str, str]:
    assert response.headers["Request-Id"].startswith("req_")
    assert response.headers["Content-Type"].startswith("application/json")
    error: dict[str, str] = response.json()["error"]
    assert error["type"] in ERROR_TYPES, error
    assert isinstance(error["message"], str) and error["message"]
    return error


# -- Request-Id and unknown URLs ---------------------------------------------------------
@pytest.mark.parametrize(
    ("method", "path", "auth"),
    [
        ("GET", "/v1/customers", True),
        ("POST", "/v1/customers", True),
        ("GET", "/v1/customers/cus_missing", True),
        ("GET", "/v1/customers", False),
        ("GET", "/v1/foo", True),
        ("GET", "/_sandbox/health", False),
        ("GET", "/nowhere", False),
    ],
)
def test_every_response_has_a_request_id(
    sandbox_server: RunningServer, method: str, path: str, auth: bool
) -> None:
    headers = {"Authorization": f"Bearer {KEY}"} if auth else {}
    response = requests.request(method, sandbox_server.url + path, headers=headers, timeout=10)
    request_id = response.headers.get("Request-Id", "")
    assert request_id.startswith("req_") and len(request_id) > len("req_"), response.headers


def test_request_ids_are_unique(http: requests.Session, sandbox_server: RunningServer) -> None:
    ids = {http.get(f"{sandbox_server.url}/v1/customers?limit=1", timeout=10)
           .headers["Request-Id"] for _ in range(20)}
    assert len(ids) == 20


def test_sdk_exposes_the_request_id(client: stripe.StripeClient) -> None:
    customer = client.v1.customers.create(params={"name": "Request Id"})
    assert customer.last_response is not None
    assert customer.last_response.request_id is not None
    assert customer.last_response.request_id.startswith("req_")


@pytest.mark.parametrize(("method", "path"), [("GET", "/v1/foo"), ("POST", "/v1/foo"),
                                               ("DELETE", "/v1/foo/bar")])
def test_unknown_url_is_404_with_stripes_wording(
    http: requests.Session, sandbox_server: RunningServer, method: str, path: str
) -> None:
    response = http.request(method, sandbox_server.url + path, timeout=10)
    assert response.status_code == 404
    error = assert_stripe_error(response)
    assert error["type"] == "invalid_request_error"
    assert error["message"] == UNRECOGNIZED.format(method=method, path=path)


def test_unknown_url_through_the_sdk(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.raw_request("get", "/v1/foo")
    assert raised.value.http_status == 404
    assert raised.value.user_message == UNRECOGNIZED.format(method="GET", path="/v1/foo")


def test_trailing_slash_hint(http: requests.Session, sandbox_server: RunningServer) -> None:
    response = http.get(f"{sandbox_server.url}/v1/customers/", timeout=10)
    assert response.status_code == 404
    message = assert_stripe_error(response)["message"]
    assert message.startswith("Unrecognized request URL (GET: /v1/customers/).")
    assert "remove the trailing slash" in message


# -- parameter errors ----------------------------------------------------------------------
def test_parameter_unknown(client: stripe.StripeClient) -> None:
    unknown: Any = {"zzqx": "1"}  # not a Stripe parameter, on purpose
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.customers.create(params=unknown)
    error = raised.value
    assert error.http_status == 400
    assert error.code == "parameter_unknown"
    assert error.param == "zzqx"
    assert error.user_message == "Received unknown parameter: zzqx"
    assert error.error is not None
    assert error.error.type == "invalid_request_error"
    assert error.error.doc_url == "https://stripe.com/docs/error-codes/parameter-unknown"


def test_parameter_unknown_names_the_nested_key(client: stripe.StripeClient) -> None:
    nested: Any = {"address": {"line1": "1 Main St", "planet": "Mars"}}
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.customers.create(params=nested)
    assert raised.value.code == "parameter_unknown"
    assert raised.value.param == "address[planet]"
    assert (raised.value.user_message or "").startswith(
        "Received unknown parameter: address[planet]"
    )


def test_parameter_missing(client: stripe.StripeClient) -> None:
    without_url: Any = {"enabled_events": ["*"]}
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.webhook_endpoints.create(params=without_url)
    error = raised.value
    assert error.http_status == 400
    assert error.code == "parameter_missing"
    assert error.param == "url"
    assert error.user_message == "Missing required param: url."
    assert error.error is not None
    assert error.error.doc_url == "https://stripe.com/docs/error-codes/parameter-missing"


def test_parameter_invalid_integer(client: stripe.StripeClient) -> None:
    not_a_number: Any = {"limit": "ten"}
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.customers.list(params=not_a_number)
    error = raised.value
    assert error.code == "parameter_invalid_integer"
    assert error.param == "limit"
    assert error.user_message == "Invalid integer: ten"
    assert error.error is not None
    assert error.error.type == "invalid_request_error"
    assert error.error.doc_url == "https://stripe.com/docs/error-codes/parameter-invalid-integer"


def test_resource_missing_json_shape(http: requests.Session, sandbox_server: RunningServer) -> None:
    response = http.get(f"{sandbox_server.url}/v1/customers/cus_nope", timeout=10)
    assert response.status_code == 404
    error = assert_stripe_error(response)
    assert error["code"] == "resource_missing"
    assert error["doc_url"] == "https://stripe.com/docs/error-codes/resource-missing"
    assert error["message"] == "No such customer: 'cus_nope'"
    assert error["param"] == "id"
    log = requests.get(error["request_log_url"], timeout=10)
    assert log.status_code == 200
    assert log.json()["response"]["error"]["code"] == "resource_missing"


# -- injected faults -------------------------------------------------------------------------
def test_rate_limit_fault(client: stripe.StripeClient, faults: str) -> None:
    path = "/v1/customers/cus_rate_limited"
    inject(faults, method="GET", path=path, action="rate_limit", count=1, retry_after=7)
    with pytest.raises(stripe.RateLimitError) as raised:
        client.v1.customers.retrieve("cus_rate_limited")
    error = raised.value
    assert error.http_status == 429
    assert error.error is not None and error.error.code == "rate_limit"
    assert error.headers is not None and error.headers["Retry-After"] == "7"
    assert (error.user_message or "").startswith("Testmode request rate limit exceeded")
    # count=1: the next request goes through to the real answer.
    with pytest.raises(stripe.InvalidRequestError) as after:
        client.v1.customers.retrieve("cus_rate_limited")
    assert after.value.code == "resource_missing"


def test_rate_limit_fault_raw(http: requests.Session, sandbox_server: RunningServer,
                              faults: str) -> None:
    inject(faults, method="POST", path="/v1/webhook_endpoints", action="rate_limit",
           retry_after=2)
    response = http.post(f"{sandbox_server.url}/v1/webhook_endpoints",
                         data={"url": "https://example.com/hook", "enabled_events[]": "*"},
                         timeout=10)
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "2"
    error = assert_stripe_error(response)
    assert error["code"] == "rate_limit"
    assert error["type"] == "invalid_request_error"


@pytest.mark.parametrize("status", [500, 503])
def test_error_fault_is_an_api_error(client: stripe.StripeClient, faults: str,
                                     status: int) -> None:
    inject(faults, method="GET", path="/v1/customers/cus_broken*", action="error",
           status=status)
    with pytest.raises(stripe.APIError) as raised:
        client.v1.customers.retrieve("cus_broken_1")
    assert raised.value.http_status == status
    assert raised.value.error is not None and raised.value.error.type == "api_error"
    assert raised.value.headers is not None
    assert raised.value.headers["Stripe-Should-Retry"] == "true"


def test_sdk_retries_through_an_injected_error(sandbox_server: RunningServer,
                                               faults: str) -> None:
    retrying = stripe.StripeClient(KEY, base_addresses={"api": sandbox_server.url},
                                   max_network_retries=2)
    inject(faults, method="POST", path="/v1/customers", action="error", status=503, count=1)
    customer = retrying.v1.customers.create(params={"name": "Second time lucky"})
    assert customer.name == "Second time lucky"
    found = retrying.v1.customers.list(params={"limit": 3}).data
    assert sum(c.id == customer.id for c in found) == 1


def test_drop_fault_closes_the_connection(client: stripe.StripeClient, faults: str) -> None:
    inject(faults, method="GET", path="/v1/customers/cus_dropped", action="drop")
    with pytest.raises(stripe.APIConnectionError):
        client.v1.customers.retrieve("cus_dropped")


def test_delay_fault(http: requests.Session, sandbox_server: RunningServer, faults: str) -> None:
    inject(faults, method="GET", path="/v1/customers/cus_slow", action="delay", delay_ms=400)
    started = time.perf_counter()
    response = http.get(f"{sandbox_server.url}/v1/customers/cus_slow", timeout=10)
    assert time.perf_counter() - started >= 0.4
    assert response.status_code == 404


def test_faults_are_listed_and_cleared(sandbox_server: RunningServer, faults: str) -> None:
    inject(faults, method="GET", path="/v1/never/*", action="error", count=3)
    listed = requests.get(faults, timeout=10).json()["faults"]
    assert any(f["path"] == "/v1/never/*" and f["remaining"] == 3 for f in listed)
    assert requests.delete(faults, timeout=10).json() == {"faults": []}
    assert requests.get(faults, timeout=10).json()["faults"] == []


def test_unknown_fault_action_is_refused(faults: str) -> None:
    response = requests.post(faults, data={"action": "explode"}, timeout=10)
    assert response.status_code == 400
    assert response.json()["error"]["param"] == "action"


# -- malformed input: never a 500 -----------------------------------------------------------
def test_oversized_body_is_413(sandbox_server: RunningServer) -> None:
    body = b"description=" + b"x" * (1024 * 1024)
    # A fresh connection: the server stops reading an oversized body, so this one is spent.
    response = requests.post(
        f"{sandbox_server.url}/v1/customers", data=body, timeout=30,
        headers={"Authorization": f"Bearer {KEY}",
                 "Content-Type": "application/x-www-form-urlencoded", "Connection": "close"},
    )
    assert response.status_code == 413
    error = assert_stripe_error(response)
    assert error["type"] == "invalid_request_error"
    assert "too large" in error["message"]


def test_deeply_nested_brackets_are_refused_not_500(http: requests.Session,
                                                    sandbox_server: RunningServer) -> None:
    body = "metadata" + "[a]" * 3000 + "=1"
    response = http.post(f"{sandbox_server.url}/v1/customers", data=body, timeout=10,
                         headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert response.status_code == 400, response.text
    assert assert_stripe_error(response)["type"] == "invalid_request_error"


def _random_key(rng: random.Random) -> str:
    roots = ["name", "email", "metadata", "address", "shipping", "balance", "expand",
             "invoice_settings", "preferred_locales", "tax_exempt", "limit", "x", ""]
    key = rng.choice(roots)
    for _ in range(rng.randint(0, 5)):
        key += rng.choice(["[]", "[0]", "[1]", "[a]", "[line1]", "[", "]", "[[", "[]]",
                           f"[{rng.randint(0, 10**12)}]", "[%5B]", "[name]"])
    return key


def _random_value(rng: random.Random) -> str:
    choices = [
        "", "0", "-1", "1e9", "true", "null", "[]", "{}", "%", "%zz", "\x00",
        "9" * rng.randint(20, 400), "x" * rng.randint(5000, 60000),
        "".join(rng.choice(string.printable) for _ in range(rng.randint(1, 40))),
        "".join(chr(rng.randint(0x80, 0x2FFF)) for _ in range(rng.randint(1, 20))),
    ]
    return rng.choice(choices)


def _random_body(rng: random.Random) -> bytes:
    shape = rng.randrange(5)
    if shape == 0:  # raw bytes, mostly not UTF-8
        return bytes(rng.randrange(256) for _ in range(rng.randint(1, 300)))
    if shape == 1:  # many parameters
        return "&".join(f"{_random_key(rng)}={rng.randint(0, 9)}"
                        for _ in range(rng.randint(50, 1500))).encode()
    if shape == 2:  # invalid UTF-8 inside otherwise valid pairs
        return b"name=" + bytes([rng.choice([0xFF, 0xC3, 0xE2, 0x80])]) + b"&email=a%FF%FE"
    pairs = [(_random_key(rng), _random_value(rng)) for _ in range(rng.randint(1, 8))]
    if shape == 3:
        return urllib.parse.urlencode(pairs).encode()
    return "&".join(f"{k}={v}" for k, v in pairs).encode("utf-8", "surrogatepass")


def test_fuzzed_form_bodies_never_give_a_500(http: requests.Session,
                                             sandbox_server: RunningServer) -> None:
    """300 malformed bodies (seeded, so a failure is reproducible) against create,
    update and list; every answer must be < 500, and every refusal a Stripe error."""
    rng = random.Random(20261121)
    target = http.post(f"{sandbox_server.url}/v1/customers", data={"name": "Fuzz target"},
                       timeout=10).json()["id"]
    deadline = time.perf_counter() + 60
    failures: list[str] = []
    for attempt in range(300):
        assert time.perf_counter() < deadline, f"fuzz too slow; stopped at {attempt}"
        body = _random_body(rng)
        method, path = rng.choice([("POST", "/v1/customers"), ("POST", f"/v1/customers/{target}"),
                                   ("GET", "/v1/customers")])
        if method == "GET":
            # gunicorn itself refuses request lines over 4094 bytes (an HTML 400).
            query = body.decode("latin-1")[:1200]
            response = http.get(f"{sandbox_server.url}{path}?{query}", timeout=10)
        else:
            response = http.post(sandbox_server.url + path, data=body, timeout=10,
                                 headers={"Content-Type": "application/x-www-form-urlencoded"})
        if response.status_code >= 500:
            failures.append(f"{method} {path} {body[:200]!r} -> {response.status_code}")
            continue
        assert response.headers["Request-Id"].startswith("req_")
        if response.status_code >= 400:
            assert_stripe_error(response)
    assert not failures, "\n".join(failures)
