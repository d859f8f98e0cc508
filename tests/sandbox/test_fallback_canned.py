"""The stripe-mock-compatible mode's objects and answers, for every object and operation the
pinned SDK has (``simulator/sandbox/fallback``)."""

from __future__ import annotations

import json
import warnings

import pytest
import stripe
from stripe._util import convert_to_stripe_object

from simulator.common.ids import IdGenerator
from simulator.sandbox import sdk_reference
from simulator.sandbox.errors import InvalidRequestError
from simulator.sandbox.fallback.answer import answer, find_route
from simulator.sandbox.fallback.canned import Canvas, canned_object

CANVAS = Canvas(ids=IdGenerator(7), now=1_790_000_000, url="/v1/things")


def read_back(body: dict) -> stripe.StripeObject:
    """The body as the SDK reads a response: every nested class built, every decimal parsed."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return convert_to_stripe_object(json.loads(json.dumps(body)), "sk_test_x")


@pytest.mark.parametrize("object_name", sdk_reference.object_names())
def test_every_sdk_object_can_be_canned_and_read_back(object_name: str) -> None:
    body = canned_object(object_name, CANVAS, object_id="x_1")
    fields = sdk_reference.object_kind(object_name).fields or {}
    assert set(body) >= set(fields) - {"object", "id"}
    obj = read_back(body)
    cls = sdk_reference.object_class(object_name)
    assert cls is not None and isinstance(obj, cls)
    if "id" in fields:
        assert obj["id"] == "x_1"


def test_every_sdk_operation_is_answered() -> None:
    unanswered = []
    for operation in sdk_reference.operations():
        path = operation.path.replace("{", "").replace("}", "_1")
        try:
            body = answer(operation.method, path, {}, CANVAS)
        except InvalidRequestError as refused:
            assert refused.code == "parameter_missing"  # only a required parameter is missing
            continue
        if body is None:
            unanswered.append(f"{operation.method} {operation.path}")
            continue
        read_back(body)
    assert unanswered == []


def test_the_most_literal_path_wins() -> None:
    found = find_route("GET", "/v1/customers/search")
    assert found is not None
    route, ids = found
    assert route.operation.path == "/v1/customers/search" and ids == []
    found = find_route("GET", "/v1/customers/cus_9/sources/card_2")
    assert found is not None and found[1] == ["cus_9", "card_2"]


def test_request_values_fill_only_fields_that_accept_them() -> None:
    body = canned_object("payment_intent", CANVAS, values={
        "amount": "1500", "currency": "eur", "capture_method": "manual",
        "confirm": "true", "application_fee_amount": "a lot", "metadata": {"lot": "3"}})
    assert body["amount"] == 1500 and body["currency"] == "eur"
    assert body["capture_method"] == "manual"
    assert body["application_fee_amount"] is None  # not a number: the field keeps its value
    assert body["metadata"] == {"lot": "3"}
    assert "confirm" not in body  # a parameter, not a field
