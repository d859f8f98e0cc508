"""Idempotent requests (https://docs.stripe.com/api/idempotent_requests): replays, key
misuse, concurrent use of one key, the 24-hour window and what is (not) stored."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import stripe

from harness.servers import RunningServer, start_sandbox

KEY = "sk_test_wire_idempotency"


def new_key(label: str) -> str:
    return f"{label}-{uuid.uuid4()}"


@pytest.fixture(scope="module")
def private_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """A sandbox of its own, since these tests move its clock a day forward."""
    server = start_sandbox(Path(tmp_path_factory.mktemp("idempotency")), workers=1, threads=2)
    yield server
    server.stop()


def post(session: requests.Session, url: str, key: str, data: dict[str, str]) -> requests.Response:
    return session.post(url, data=data, headers={"Idempotency-Key": key}, timeout=30)


def customers_with_email(client: stripe.StripeClient, email: str) -> list[str]:
    return [c.id for c in client.v1.customers.list(params={"email": email, "limit": 100}).data]


# -- replays -------------------------------------------------------------------------------
def test_replay_returns_the_same_response_and_creates_nothing(
    http: requests.Session, sandbox_server: RunningServer, client: stripe.StripeClient
) -> None:
    key, email = new_key("replay"), f"replay-{uuid.uuid4().hex[:8]}@example.com"
    url = f"{sandbox_server.url}/v1/customers"
    first = post(http, url, key, {"email": email, "name": "Ada"})
    second = post(http, url, key, {"email": email, "name": "Ada"})
    assert first.status_code == second.status_code == 200
    assert "Idempotent-Replayed" not in first.headers
    assert second.headers["Idempotent-Replayed"] == "true"
    assert second.json() == first.json()
    assert first.headers["Idempotency-Key"] == second.headers["Idempotency-Key"] == key
    assert second.headers["Request-Id"] != first.headers["Request-Id"]
    assert second.headers["Original-Request"] == first.headers["Request-Id"]
    assert customers_with_email(client, email) == [first.json()["id"]]


def test_replay_through_the_sdk(client: stripe.StripeClient) -> None:
    key, email = new_key("sdk-replay"), f"sdk-replay-{uuid.uuid4().hex[:8]}@example.com"
    params: stripe.params.CustomerCreateParams = {"email": email, "metadata": {"lot": "17"}}
    first = client.v1.customers.create(params=params, options={"idempotency_key": key})
    second = client.v1.customers.create(params=params, options={"idempotency_key": key})
    assert second.id == first.id
    assert second.to_dict() == first.to_dict()
    assert second.last_response is not None
    assert second.last_response.headers["Idempotent-Replayed"] == "true"
    assert customers_with_email(client, email) == [first.id]


def test_parameter_order_does_not_matter(http: requests.Session,
                                         sandbox_server: RunningServer) -> None:
    key, url = new_key("order"), f"{sandbox_server.url}/v1/customers"
    first = http.post(url, data="name=Ada&email=ada%40example.com",
                      headers={"Idempotency-Key": key,
                               "Content-Type": "application/x-www-form-urlencoded"}, timeout=10)
    second = http.post(url, data="email=ada%40example.com&name=Ada",
                       headers={"Idempotency-Key": key,
                                "Content-Type": "application/x-www-form-urlencoded"}, timeout=10)
    assert second.status_code == 200, second.text
    assert second.json()["id"] == first.json()["id"]


def test_keys_are_ignored_on_get(http: requests.Session, sandbox_server: RunningServer) -> None:
    url = f"{sandbox_server.url}/v1/customers?limit=1"
    key = new_key("get")
    for _ in range(2):
        response = http.get(url, headers={"Idempotency-Key": key}, timeout=10)
        assert response.status_code == 200
        assert "Idempotent-Replayed" not in response.headers


# -- misuse ------------------------------------------------------------------------------------
def test_same_key_with_other_parameters_is_refused(client: stripe.StripeClient) -> None:
    key = new_key("params")
    client.v1.customers.create(params={"name": "Ada"}, options={"idempotency_key": key})
    with pytest.raises(stripe.IdempotencyError) as raised:
        client.v1.customers.create(params={"name": "Grace"}, options={"idempotency_key": key})
    error = raised.value
    assert error.http_status == 400
    assert error.user_message == (
        "Keys for idempotent requests can only be used with the same parameters they were"
        f" first used with. Try using a key other than '{key}' if you meant to execute a"
        " different request."
    )
    assert error.error is not None and error.error.type == "idempotency_error"


def test_same_key_on_another_endpoint_is_refused(client: stripe.StripeClient) -> None:
    key = new_key("endpoint")
    customer = client.v1.customers.create(params={"name": "Ada"}, options={"idempotency_key": key})
    with pytest.raises(stripe.IdempotencyError) as raised:
        client.v1.customers.update(customer.id, params={"name": "Ada"},
                                   options={"idempotency_key": key})
    message = raised.value.user_message or ""
    assert message.startswith(
        "Keys for idempotent requests can only be used for the same endpoint they were first"
        " used for"
    )
    assert f"Try using a key other than '{key}'" in message


@pytest.mark.parametrize(("length", "status"), [(255, 200), (256, 400), (1000, 400)])
def test_key_length_limit(http: requests.Session, sandbox_server: RunningServer,
                          length: int, status: int) -> None:
    key = (uuid.uuid4().hex * 40)[:length]
    response = post(http, f"{sandbox_server.url}/v1/customers", key, {"name": "Long key"})
    assert response.status_code == status, response.text
    if status == 400:
        error = response.json()["error"]
        assert error["type"] == "invalid_request_error"
        assert error["message"].startswith(f"Idempotent key length is {length}, which is outside"
                                           " accepted lengths.")


def test_long_key_through_the_sdk(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.customers.create(params={"name": "x"}, options={"idempotency_key": "k" * 256})
    assert raised.value.http_status == 400


# -- what is stored ----------------------------------------------------------------------------
def test_validation_errors_are_not_stored(http: requests.Session, sandbox_server: RunningServer,
                                          client: stripe.StripeClient) -> None:
    key, email = new_key("validation"), f"fixed-{uuid.uuid4().hex[:8]}@example.com"
    url = f"{sandbox_server.url}/v1/customers"
    refused = post(http, url, key, {"email": email, "nmae": "Typo"})
    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == "parameter_unknown"
    corrected = post(http, url, key, {"email": email, "name": "Fixed"})
    assert corrected.status_code == 200, corrected.text
    assert "Idempotent-Replayed" not in corrected.headers
    assert corrected.json()["name"] == "Fixed"
    assert customers_with_email(client, email) == [corrected.json()["id"]]


def test_declined_payment_is_stored_and_replayed(http: requests.Session,
                                                 sandbox_server: RunningServer) -> None:
    """Stripe saves the result of any request that began executing, a 402 included."""
    url = f"{sandbox_server.url}/v1/payment_intents"
    key = new_key("declined")
    form = {"amount": "2000", "currency": "usd", "payment_method": "pm_card_visa_chargeDeclined",
            "confirm": "true"}
    first = post(http, url, key, form)
    if first.status_code == 404 and "Unrecognized request URL" in first.text:
        pytest.skip("PaymentIntents are not in the sandbox yet")
    assert first.status_code == 402, first.text
    second = post(http, url, key, form)
    assert second.status_code == 402
    assert second.headers["Idempotent-Replayed"] == "true"
    assert second.json() == first.json()


# -- concurrency -------------------------------------------------------------------------------
def test_key_in_use_by_a_running_request_is_409(http: requests.Session,
                                                sandbox_server: RunningServer,
                                                faults: str) -> None:
    url = f"{sandbox_server.url}/v1/customers"
    key, form = new_key("in-flight"), {"name": "Slow Sally"}
    requests.post(faults, data={"method": "POST", "path": "/v1/customers",
                                "action": "delay_after_claim", "delay_ms": 1500, "count": 1},
                  timeout=10).raise_for_status()
    results: dict[str, requests.Response] = {}

    def first_request() -> None:
        with requests.Session() as own:
            own.headers["Authorization"] = f"Bearer {KEY}"
            results["first"] = post(own, url, key, form)

    thread = threading.Thread(target=first_request)
    thread.start()
    time.sleep(0.4)
    results["second"] = post(http, url, key, form)
    thread.join(timeout=30)
    assert not thread.is_alive()
    by_status = {r.status_code: r for r in results.values()}
    # Whichever request claimed the key first holds it; the other is told it is in use.
    assert sorted(by_status) == [200, 409], [r.text for r in results.values()]
    conflict = by_status[409].json()["error"]
    assert conflict["code"] == "idempotency_key_in_use"
    assert conflict["message"].startswith(
        "There is currently another in-progress request using this Idempotent Key"
    )
    replay = post(http, url, key, form)
    assert replay.status_code == 200
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert replay.json()["id"] == by_status[200].json()["id"]


def test_sdk_retries_a_409_into_the_replay(sandbox_server: RunningServer,
                                           client: stripe.StripeClient, faults: str) -> None:
    """The SDK retries 409s; once the first request finishes, the retry gets its result."""
    email = f"retry-409-{uuid.uuid4().hex[:8]}@example.com"
    key = new_key("sdk-409")
    requests.post(faults, data={"method": "POST", "path": "/v1/customers",
                                "action": "delay_after_claim", "delay_ms": 1200, "count": 1},
                  timeout=10).raise_for_status()
    retrying = stripe.StripeClient(KEY, base_addresses={"api": sandbox_server.url},
                                   max_network_retries=6)
    ids: list[str] = []
    thread = threading.Thread(target=lambda: ids.append(client.v1.customers.create(
        params={"email": email}, options={"idempotency_key": key}).id))
    thread.start()
    time.sleep(0.4)
    second = retrying.v1.customers.create(params={"email": email},
                                          options={"idempotency_key": key})
    thread.join(timeout=30)
    assert ids == [second.id]
    assert customers_with_email(client, email) == [second.id]


# -- the 24-hour window --------------------------------------------------------------------------
def test_keys_are_forgotten_after_24_hours(private_sandbox: RunningServer) -> None:
    url = f"{private_sandbox.url}/v1/customers"
    key, form = new_key("day-old"), {"name": "Yesterday"}
    with requests.Session() as http:
        http.headers["Authorization"] = f"Bearer {KEY}"
        first = post(http, url, key, form)
        within = post(http, url, key, form)
        assert within.headers.get("Idempotent-Replayed") == "true"
        advanced = requests.post(f"{private_sandbox.url}/_sandbox/clock/advance",
                                 data={"seconds": 90000}, timeout=30)
        assert advanced.status_code == 200, advanced.text
        later = post(http, url, key, form)
    assert later.status_code == 200
    assert "Idempotent-Replayed" not in later.headers
    assert later.json()["id"] != first.json()["id"]
    assert later.json()["created"] >= first.json()["created"] + 90000
