"""Schemathesis against every /v1 operation the sandbox implements: an OpenAPI document
built at test time from the pinned SDK's paths and params types (``sdk_openapi.py``), cut
down to the operations the sandbox routes (``simulator/sandbox/coverage.py`` decides
which), fuzzed in-process over WSGI.

Whatever the input, the sandbox must answer as Stripe does, never a 5xx
(``not_a_server_error``), and every 4xx with a Stripe error object (``error.type`` and
``error.message``). Two cases in three address real
objects (a customer, a charge, a Checkout Session, ...) so that they reach past the
lookup, and half of those carry a valid currency and amount so that they reach past the
first checks. Bounded: ``EXAMPLES_PER_OPERATION`` cases per operation, derandomized.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from typing import Any

import pytest
import schemathesis
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.core.result import Ok
from sdk_openapi import openapi_document  # type: ignore[import-not-found]

from simulator.sandbox import sdk_reference
from simulator.sandbox.coverage import Operation, routes

pytestmark = pytest.mark.slow
KEY = "sk_test_schemathesis"
AUTH = {"Authorization": f"Bearer {KEY}"}
EXAMPLES_PER_OPERATION = 10
CARD = {"card[number]": "4242424242424242", "card[exp_month]": "12",
        "card[exp_year]": "2031", "card[cvc]": "123"}
# ``{id}`` means a different object under each resource.
ID_AFTER = {"products": "product", "events": "event",
            "balance_transactions": "balance_transaction", "sources": "source"}
# The SDK names a SetupIntent's path parameter ``intent`` as it does a PaymentIntent's.
BY_RESOURCE = {("setup_intents", "intent"): "setup_intent"}


def implemented_spec(app: Flask) -> dict[str, Any]:
    """The SDK's operations that this sandbox routes, as an OpenAPI document."""
    adapter = app.url_map.bind("localhost")
    return openapi_document(op for op in sdk_reference.operations()
                            if routes(adapter, Operation(op.path, op.method)))


def stripe_error_problem(status: int, body: Any) -> str | None:
    """What is wrong with a 4xx answer that is not a Stripe error object."""
    if status < 400:
        return None
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict) or not isinstance(error.get("type"), str) \
            or not isinstance(error.get("message"), str):
        return "not a Stripe error object"
    return None


def seed(api: FlaskClient) -> dict[str, str]:
    """One object of every kind the operations address; their ids by path parameter."""

    def post(path: str, **form: str) -> dict[str, Any]:
        answer = api.post(path, data=form)
        assert answer.status_code == 200, (path, answer.text)
        body: dict[str, Any] = answer.json  # type: ignore[assignment]
        return body

    customer = post("/v1/customers", email="bidder@example.test")
    product = post("/v1/products", name="Lot 17: brass carriage clock")
    price = post("/v1/prices", product=product["id"], currency="usd", unit_amount="64200")
    intent = post("/v1/payment_intents", amount="64200", currency="usd",
                  payment_method="pm_card_visa", confirm="true")
    session = post("/v1/checkout/sessions", mode="payment", success_url="http://shop.test/ok",
                   cancel_url="http://shop.test/no", **{"line_items[0][price]": price["id"],
                                                        "line_items[0][quantity]": "1"})
    post("/v1/payment_intents", amount="64200", currency="usd",
         payment_method="pm_card_createDispute", confirm="true")  # opens a dispute
    newest = {name: api.get(f"/v1/{name}?limit=1").json["data"][0]["id"]  # type: ignore[index]
              for name in ("events", "balance_transactions", "disputes")}
    return {
        "customer": customer["id"], "product": product["id"], "price": price["id"],
        "intent": intent["id"], "charge": intent["latest_charge"], "session": session["id"],
        "refund": post("/v1/refunds", payment_intent=intent["id"], amount="100")["id"],
        "payment_method": post("/v1/payment_methods", type="card", **CARD)["id"],
        "token": post("/v1/tokens", **CARD)["id"],
        "source": post(f"/v1/customers/{customer['id']}/sources", source="tok_visa")["id"],
        "test_clock": post("/v1/test_helpers/test_clocks", frozen_time="1750000000")["id"],
        "webhook_endpoint": post("/v1/webhook_endpoints", url="http://127.0.0.1:9/hook",
                                 **{"enabled_events[]": "*"})["id"],
        "event": newest["events"], "balance_transaction": newest["balance_transactions"],
        "dispute": newest["disputes"],
        "setup_intent": post("/v1/setup_intents", payment_method="pm_card_visa")["id"],
        "coupon": post("/v1/coupons", percent_off="20")["id"],
        "transaction": post(f"/v1/test_helpers/customers/{customer['id']}/fund_cash_balance",
                            amount="1000", currency="usd")["id"],
    }


def real_ids(path: str, ids: dict[str, str]) -> dict[str, str]:
    chosen = {}
    for match in re.finditer(r"([^/]+)/\{(\w+)\}", path):
        resource, name = match.groups()
        key = ID_AFTER[resource] if name == "id" else BY_RESOURCE.get((resource, name), name)
        chosen[name] = ids[key]
    return chosen


def plausible(case: Any) -> Any:
    """A valid currency and amount, so that the case reaches the rules behind them."""
    if isinstance(case.body, dict):
        for name, value in (("currency", "usd"), ("amount", 64200)):
            if name in case.body:
                case.body[name] = value
    return case


def _json(response: Any) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def test_a_non_stripe_error_is_caught() -> None:
    assert stripe_error_problem(404, {"error": {"type": "invalid_request_error",
                                                "message": "No such customer"}}) is None
    assert stripe_error_problem(400, {"message": "bad"}) == "not a Stripe error object"
    assert stripe_error_problem(405, None) == "not a Stripe error object"
    assert stripe_error_problem(200, None) is None


def test_the_document_covers_the_routed_sdk_operations(sandbox_app: Flask) -> None:
    spec = implemented_spec(sandbox_app)
    operations = spec["paths"]["/v1/payment_intents"]["post"]
    schema = operations["requestBody"]["content"]["application/x-www-form-urlencoded"]["schema"]
    assert {"amount", "currency"} <= set(schema["required"])
    assert "/v1/accounts" not in spec["paths"]  # the SDK has it; the sandbox does not


def test_no_input_makes_the_sandbox_fail(sandbox_app: Flask, api: FlaskClient) -> None:
    api.environ_base["HTTP_AUTHORIZATION"] = AUTH["Authorization"]
    spec = implemented_spec(sandbox_app)
    schema = schemathesis.openapi.from_dict(spec)
    started = time.monotonic()
    cases: Counter[str] = Counter()
    statuses: Counter[int] = Counter()
    server_errors: list[str] = []
    ids = seed(api)
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), result  # every operation of the document loads
        operation = result.ok()
        fixed = real_ids(operation.path, ids)
        addressed = operation.as_strategy(path_parameters=fixed)

        @given(case=st.one_of(operation.as_strategy(), addressed, addressed.map(plausible)))
        @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, database=None,
                  derandomize=True, phases=[Phase.explicit, Phase.generate],
                  suppress_health_check=list(HealthCheck))
        def call(case: Any) -> None:
            cases[case.operation.label] += 1
            response = case.call(app=sandbox_app, headers=AUTH)
            statuses[response.status_code] += 1
            problem = None
            try:
                case.validate_response(response, checks=[not_a_server_error], headers=AUTH)
                problem = stripe_error_problem(response.status_code, _json(response))
            except FailureGroup:
                problem = "server error"
            if problem:
                server_errors.append(f"{problem}: {response.status_code}"
                                     f" {case.as_curl_command(AUTH)}"
                                     f"\n  {response.content[:300]!r}")

        call()
        if operation.method.upper() == "DELETE":  # the next operations need them back
            ids = seed(api)
    print(f"\nschemathesis (sandbox /v1): {len(cases)} operations, {cases.total()} cases,"
          f" {len(server_errors)} server errors, statuses {dict(sorted(statuses.items()))},"
          f" {time.monotonic() - started:.1f} s")
    assert len(cases) == sum(len(item) for item in spec["paths"].values())
    assert not server_errors, "\n".join(server_errors)
