"""The test-only routes: present only in test mode; they move the clock and run jobs."""

from __future__ import annotations

import dataclasses

from flask.testing import FlaskClient
from web_support import NOW, FakePaymentService

from simulator.common.clock import Clock
from simulator.service.app import create_app
from simulator.service.config import ServiceConfig
from simulator.service.web.runtime import ClockOffsetFile


def test_advancing_the_clock_runs_the_jobs_that_became_due(
        anonymous: FlaskClient, service: FakePaymentService) -> None:
    service.jobs_run = 2
    answer = anonymous.post("/_test/clock/advance", json={"seconds": 3600})
    assert answer.status_code == 200
    assert answer.json == {"now": NOW + 3600, "offset_seconds": 3600, "jobs_run": 2,
                           "steps": 1}
    assert anonymous.get("/_test/clock").json["now"] == NOW + 3600
    assert 'data-server-now="1750003600"' in anonymous.get("/payments/login").text


def test_the_clock_only_moves_forward(anonymous: FlaskClient) -> None:
    answer = anonymous.post("/_test/clock/advance", json={"seconds": -5})
    assert answer.status_code == 400
    assert answer.json["error"]["message"] == "The clock only moves forward."
    assert anonymous.post("/_test/clock/advance", data={"seconds": "soon"}).status_code == 400


def test_jobs_can_be_run_on_demand(anonymous: FlaskClient, service: FakePaymentService) -> None:
    assert anonymous.post("/_test/jobs/run").json == {"jobs_run": 0}
    assert service.called("run_due_jobs") == [()]


def test_outside_test_mode_the_routes_do_not_exist(config: ServiceConfig,
                                                   service: FakePaymentService) -> None:
    production = dataclasses.replace(config, test_mode=False)
    client = create_app(production, clock=Clock(), service=service).test_client()  # type: ignore[arg-type]
    assert client.post("/_test/clock/advance", json={"seconds": 60}).status_code == 404
    assert client.post("/_test/jobs/run").status_code == 404
    assert service.calls == []


def test_a_test_mode_service_shares_its_clock_offset_through_a_file(
        config: ServiceConfig, service: FakePaymentService) -> None:
    """Every gunicorn worker builds its own app; the offset file keeps them agreeing."""
    first = create_app(config, service=service)  # type: ignore[arg-type]
    second = create_app(config, service=service)  # type: ignore[arg-type]
    first.test_client().post("/_test/clock/advance", json={"seconds": 90})
    assert second.test_client().get("/_test/clock").json == {"now": NOW + 90,
                                                             "offset_seconds": 90}
    assert ClockOffsetFile(f"{config.db_path}.clock.json").read() == 90
