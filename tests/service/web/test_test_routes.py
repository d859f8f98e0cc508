"""The test-only routes: present only in test mode, and then only for the test token or a
signed-in admin; they move the clock and run jobs, and refuse values out of bounds."""

from __future__ import annotations

import dataclasses
import os
import stat

import pytest
from flask import Flask
from flask.testing import FlaskClient
from web_support import NOW, FakePaymentService

from simulator.common.clock import Clock
from simulator.service.adapters.control_token import (
    clock_sync_token,
    read_control_token,
    token_path,
)
from simulator.service.adapters.repositories import Repository
from simulator.service.app import create_app
from simulator.service.config import ServiceConfig
from simulator.service.web.runtime import ClockOffsetFile


def test_advancing_the_clock_runs_the_jobs_that_became_due(
        control: FlaskClient, anonymous: FlaskClient, service: FakePaymentService) -> None:
    service.jobs_run = 2
    answer = control.post("/_test/clock/advance", json={"seconds": 3600})
    assert answer.status_code == 200
    assert answer.json == {"now": NOW + 3600, "offset_seconds": 3600, "jobs_run": 2,
                           "steps": 1}
    assert control.get("/_test/clock").json["now"] == NOW + 3600
    assert 'data-server-now="1750003600"' in anonymous.get("/payments/login").text


def test_the_clock_only_moves_forward(control: FlaskClient) -> None:
    answer = control.post("/_test/clock/advance", json={"seconds": -5})
    assert answer.status_code == 400
    assert answer.json["error"]["message"] == "The clock only moves forward."
    assert control.post("/_test/clock/advance", data={"seconds": "soon"}).status_code == 400


@pytest.mark.parametrize("seconds", ["nan", "inf", "-inf", "1e400", 10**30, True, [1], None,
                                     "", "0x10"])
def test_advancing_refuses_what_is_not_a_sane_number_of_seconds(
        control: FlaskClient, seconds: object) -> None:
    answer = control.post("/_test/clock/advance", json={"seconds": seconds})
    assert answer.status_code == 400, answer.text
    assert answer.json["error"]["code"] == "invalid_request"
    assert control.get("/_test/clock").json["offset_seconds"] == 0


@pytest.mark.parametrize("offset", ["nan", "inf", 1e300, -1e300, "soon", None, [3]])
def test_the_clock_sync_refuses_an_offset_out_of_bounds(
        control: FlaskClient, offset: object) -> None:
    answer = control.post("/_test/clock/sync", json={"offset_seconds": offset})
    assert answer.status_code == 400, answer.text
    assert answer.json["error"]["code"] == "invalid_request"
    assert control.get("/_test/clock").json["offset_seconds"] == 0


@pytest.mark.parametrize("body", [{"crash_at": "x", "count": "inf"}, {"count": 10**9},
                                  {"count": -1}, [1, 2], {"count": 1.5}])
def test_arming_a_crash_point_refuses_nonsense(control: FlaskClient, body: object) -> None:
    answer = control.post("/_test/faults", json=body)
    assert answer.status_code == 400, answer.text


def test_jobs_can_be_run_on_demand(control: FlaskClient, service: FakePaymentService) -> None:
    assert control.post("/_test/jobs/run").json == {"jobs_run": 0}
    assert service.called("run_due_jobs") == [()]


@pytest.mark.parametrize(("method", "path"), [
    ("GET", "/_test/clock"), ("POST", "/_test/clock/advance"), ("POST", "/_test/clock/sync"),
    ("POST", "/_test/jobs/run"), ("POST", "/_test/faults"), ("POST", "/_test/reset")])
def test_without_the_token_the_routes_are_refused(
        anonymous: FlaskClient, alice: FlaskClient, service: FakePaymentService,
        repo: Repository, method: str, path: str) -> None:
    for client, headers in ((anonymous, {}), (anonymous, {"X-Test-Token": "guess"}),
                            (alice, {})):
        answer = client.open(path, method=method, json={"seconds": 60}, headers=headers)
        assert answer.status_code == 403, (path, answer.text)
        assert answer.json["error"]["code"] == "forbidden"
    assert service.calls == []
    [counted] = [e for e in repo.list_security_events() if e["kind"] == "test_route_refused"]
    assert counted["count"] == 3  # counted, not a row per request


def test_a_signed_in_admin_may_use_them_with_a_json_body(admin: FlaskClient) -> None:
    assert admin.post("/_test/clock/advance", json={"seconds": 60}).status_code == 200
    as_form = admin.post("/_test/clock/advance", data={"seconds": 60})
    assert as_form.status_code == 415  # a cross-site form cannot move the clock


def test_the_sandbox_syncs_with_its_own_token_only(app: Flask, anonymous: FlaskClient,
                                                   test_token: str) -> None:
    sync_token = clock_sync_token(test_token)
    synced = anonymous.post("/_test/clock/sync", json={"offset_seconds": 120},
                            headers={"X-Test-Token": sync_token})
    assert synced.status_code == 200
    assert synced.json["offset_seconds"] == 120
    reset = anonymous.post("/_test/reset", headers={"X-Test-Token": sync_token})
    assert reset.status_code == 403  # the sandbox's token opens the sync route alone


def test_the_token_is_kept_owner_only_beside_the_database(config: ServiceConfig,
                                                          test_token: str) -> None:
    path = token_path(config.db_path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert read_control_token(config.db_path) == test_token


def test_a_configured_token_is_used_as_it_is(config: ServiceConfig,
                                             service: FakePaymentService) -> None:
    app = create_app(dataclasses.replace(config, test_token="configured-secret"),
                     clock=Clock(), service=service)  # type: ignore[arg-type]
    client = app.test_client()
    assert client.get("/_test/clock", headers={"X-Test-Token": "configured-secret"}).status_code \
        == 200


def test_outside_test_mode_the_routes_do_not_exist(config: ServiceConfig,
                                                   service: FakePaymentService) -> None:
    production = dataclasses.replace(config, test_mode=False)
    client = create_app(production, clock=Clock(), service=service).test_client()  # type: ignore[arg-type]
    token = {"X-Test-Token": read_control_token(config.db_path) or "x"}
    assert client.post("/_test/clock/advance", json={"seconds": 60},
                       headers=token).status_code == 404
    assert client.post("/_test/jobs/run", headers=token).status_code == 404
    assert client.post("/_test/clock/sync", json={"offset_seconds": 1},
                       headers=token).status_code == 404
    assert service.calls == []


def test_a_test_mode_service_shares_its_clock_offset_through_a_file(
        config: ServiceConfig, service: FakePaymentService) -> None:
    """Every gunicorn worker builds its own app; the offset file keeps them agreeing."""
    first = create_app(config, service=service)  # type: ignore[arg-type]
    second = create_app(config, service=service)  # type: ignore[arg-type]
    token = {"X-Test-Token": read_control_token(config.db_path) or ""}
    first.test_client().post("/_test/clock/advance", json={"seconds": 90}, headers=token)
    assert second.test_client().get("/_test/clock", headers=token).json == {
        "now": NOW + 90, "offset_seconds": 90}
    assert ClockOffsetFile(f"{config.db_path}.clock.json").read() == 90
