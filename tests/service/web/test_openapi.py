"""openapi.yaml: valid OpenAPI 3, served, documents every route under /payments/ (and no
route that does not exist), and the API's real answers match its schemas."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from flask import Flask
from flask.testing import FlaskClient
from openapi_schema_validator import OAS30Validator
from openapi_spec_validator import validate
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4
from web_support import ALICE, NOW, FakePaymentService, signature, stripe_event

import simulator.service.web as web
from simulator.service.domain.user import User

DOCUMENT = Path(web.__file__).parent / "openapi.yaml"
IGNORED_METHODS = {"HEAD", "OPTIONS"}


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(DOCUMENT.read_text())
    return loaded


def test_the_document_is_valid_openapi_3(spec: dict[str, Any]) -> None:
    assert spec["openapi"].startswith("3.")
    validate(spec)


def test_the_document_is_served(anonymous: FlaskClient) -> None:
    answer = anonymous.get("/openapi.yaml")
    assert answer.status_code == 200
    assert answer.mimetype == "application/yaml"
    assert yaml.safe_load(answer.text) == yaml.safe_load(DOCUMENT.read_text())


def app_routes(app: Flask) -> set[tuple[str, str]]:
    """(OpenAPI path, method) of every route but the static files."""
    routes = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static" or rule.rule == "/":
            continue
        path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
        routes |= {(path, method.lower()) for method in rule.methods or ()
                   if method not in IGNORED_METHODS}
    return routes


def documented(spec: dict[str, Any]) -> set[tuple[str, str]]:
    return {(path, method) for path, item in spec["paths"].items() for method in item
            if method in ("get", "post", "put", "patch", "delete")}


def test_every_route_under_payments_is_documented(app: Flask, spec: dict[str, Any]) -> None:
    routes = {route for route in app_routes(app) if route[0].startswith("/payments/")}
    assert len(routes) > 25
    assert routes - documented(spec) == set()


def test_nothing_documented_is_missing_from_the_app(app: Flask, spec: dict[str, Any]) -> None:
    assert documented(spec) - app_routes(app) == set()


def schema_validator(spec: dict[str, Any], name: str) -> OAS30Validator:
    registry: Registry[Any] = Registry().with_resource(
        "urn:openapi", Resource.from_contents(spec, default_specification=DRAFT4))
    return OAS30Validator({"$ref": f"urn:openapi#/components/schemas/{name}"}, registry=registry)


def test_api_answers_match_their_schemas(spec: dict[str, Any],
                                         api_as: Callable[[User], FlaskClient],
                                         anonymous: FlaskClient,
                                         service: FakePaymentService) -> None:
    client = api_as(ALICE)
    payload = stripe_event("evt_schema")
    answers = {
        "CheckoutStarted": client.post("/payments/checkout/create", json={"auction_id": "w"}),
        "PaymentStatus": client.get("/payments/checkout/ps_1/status"),
        "Error": client.post("/payments/checkout/create", json={}),
        "Health": anonymous.get("/payments/health"),
        "WebhookAck": anonymous.post("/payments/webhooks/stripe", data=payload, headers={
            "Stripe-Signature": signature(payload, timestamp=NOW)}),
    }
    for name, answer in answers.items():
        schema_validator(spec, name).validate(answer.json)
