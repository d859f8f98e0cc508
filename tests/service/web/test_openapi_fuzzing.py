"""Schemathesis against the payment service's own OpenAPI document (``openapi.yaml``),
in-process over WSGI: the real app and payment core (Stripe replaced by the in-memory
double of the unit tests), called as a buyer with an API token and as a signed-in
admin, with generated values, with real ids (a started payment, a won auction) and
with values that break the document's rules.

Whatever the input, the service answers in its documented error shape with a 4xx,
never a 5xx (``not_a_server_error``).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
import schemathesis
import yaml
from flask import Flask
from freezegun import api as freezegun_api
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from payments_support import FakeMailer, FakeStripe
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.core.result import Ok
from schemathesis.generation import GenerationMode
from web_support import ADMIN, ALICE, LOT_17, sign_in

import simulator.service.web as web
from simulator.common.clock import Clock
from simulator.service.adapters.repositories import Repository
from simulator.service.adapters.stripe_gateway import StripeGateway
from simulator.service.app import create_app
from simulator.service.config import ServiceConfig
from simulator.service.web.runtime import runtime_of

pytestmark = pytest.mark.slow
DOCUMENT = web.__file__.replace("__init__.py", "openapi.yaml")
EXAMPLES_PER_OPERATION = 10


class InMemoryStripe(FakeStripe):
    """The unit tests' Stripe, verifying webhook signatures as the real gateway does."""

    def __init__(self, config: ServiceConfig, clock: Clock) -> None:
        super().__init__(clock)
        self.construct_event = StripeGateway(config, clock).construct_event


@pytest.fixture
def real_app(config: ServiceConfig, repo: Repository) -> Flask:
    """The service as it runs, but with Stripe in memory and mail recorded."""
    clock = Clock()
    return create_app(config, clock=clock, gateway=InMemoryStripe(config, clock),
                      mailer=FakeMailer())


def wall_clock() -> float:
    """Seconds that pass while the web tests' time stands still (freezegun)."""
    return float(freezegun_api.real_monotonic())


def real_ids(app: Flask) -> dict[str, str]:
    client = app.test_client()
    started = client.post("/payments/checkout/create", json={"auction_id": LOT_17.id},
                          headers={"Authorization": f"Bearer {ALICE.api_token}"})
    assert started.status_code in (200, 201), started.text
    return {"payment_session_id": started.json["payment_session_id"],  # type: ignore[index]
            "auction_id": LOT_17.id}


def admin_cookie(app: Flask) -> dict[str, str]:
    client = app.test_client()
    assert sign_in(client, ADMIN).status_code == 303
    cookie = client.get_cookie("payments_session")
    assert cookie is not None
    return {"payments_session": cookie.value}


def test_no_input_makes_the_service_fail(real_app: Flask) -> None:
    with open(DOCUMENT, encoding="utf-8") as document:
        schema = schemathesis.openapi.from_dict(yaml.safe_load(document))
    callers: list[dict[str, Any]] = [
        {"headers": {"Authorization": f"Bearer {ALICE.api_token}",
                     "X-Test-Token": runtime_of(real_app).test_token}},
        {"cookies": admin_cookie(real_app)},
    ]
    ids = real_ids(real_app)
    started = wall_clock()
    cases: Counter[str] = Counter()
    statuses: Counter[int] = Counter()
    server_errors: list[str] = []
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), result  # every operation of the document loads
        operation = result.ok()
        fixed = {name: value for name, value in ids.items()
                 if f"{{{name}}}" in operation.path}

        @given(case=st.one_of(operation.as_strategy(),
                              operation.as_strategy(path_parameters=fixed),
                              operation.as_strategy(GenerationMode.NEGATIVE)),
               caller=st.sampled_from(callers))
        @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, database=None,
                  derandomize=True, phases=[Phase.explicit, Phase.generate],
                  suppress_health_check=list(HealthCheck))
        def call(case: Any, caller: dict[str, Any]) -> None:
            cases[case.operation.label] += 1
            response = case.call(app=real_app, **caller)
            statuses[response.status_code] += 1
            try:
                case.validate_response(response, checks=[not_a_server_error])
            except FailureGroup:
                server_errors.append(f"{response.status_code} {case.as_curl_command()}"
                                     f"\n  {response.content[:300]!r}")

        call()
    print(f"\nschemathesis (service openapi.yaml): {len(cases)} operations,"
          f" {cases.total()} cases, {len(server_errors)} server errors,"
          f" statuses {dict(sorted(statuses.items()))}, {wall_clock() - started:.1f} s")
    assert len(cases) == sum(len(item) for item in schema.raw_schema["paths"].values())
    assert not server_errors, "\n".join(server_errors)
