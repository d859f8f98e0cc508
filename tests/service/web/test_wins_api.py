"""``POST /payments/wins``: the auction timer's report of a won auction, authenticated by
the auction API token, validated field by field, recorded once per auction id."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
import yaml
from flask import Flask
from flask.testing import FlaskClient
from openapi_schema_validator import OAS30Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4
from web_support import ADMIN, ALICE, NOW, WEBHOOK_SECRET

import simulator.service.web as web
from harness.service import service_config
from simulator.common.clock import Clock
from simulator.service.adapters.repositories import Repository
from simulator.service.app import create_app
from simulator.service.config import ServiceConfig
from simulator.service.domain.auction import AuctionWin
from simulator.service.scheduler import CLOSE_WINDOW
from simulator.service.web.runtime import EXTENSION

DOCUMENT = Path(web.__file__).parent / "openapi.yaml"
TOKEN = "auction-timer-secret"
UNREACHABLE_STRIPE = "http://127.0.0.1:9"
WIN = {"auction_id": "auc_901", "lot": 42, "title": "Victorian pocket watch",
       "seller_id": "sel_house", "buyer_id": ALICE.id, "amount": 64_200, "currency": "usd",
       "ended_at": NOW - 60}


@pytest.fixture
def config(tmp_path: object) -> ServiceConfig:
    return service_config(str(tmp_path), UNREACHABLE_STRIPE,
                          stripe_webhook_secret=WEBHOOK_SECRET, auction_api_token=TOKEN)


def service_app(config: ServiceConfig) -> Flask:
    """The app with the real ``PaymentService`` (the win is written through it)."""
    flask_app = create_app(config, clock=Clock())
    flask_app.testing = True
    return flask_app


@pytest.fixture
def app(config: ServiceConfig, repo: Repository) -> Flask:
    return service_app(config)


@pytest.fixture
def timer(app: Flask) -> FlaskClient:
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {TOKEN}"
    return client


def post_win(client: FlaskClient, *, bearer: str | None = None, **changes: Any) -> Any:
    headers = {"Authorization": bearer} if bearer is not None else {}
    return client.post("/payments/wins", json={**WIN, **changes}, headers=headers)


def test_a_new_win_is_recorded_with_its_audit_entry_and_closing_job(
        timer: FlaskClient, repo: Repository) -> None:
    answer = post_win(timer)
    assert answer.status_code == 201, answer.text
    assert answer.json == {"id": "auc_901", "lot": 42, "title": "Victorian pocket watch",
                           "seller_id": "sel_house", "buyer_id": ALICE.id, "amount": 64_200,
                           "currency": "usd", "ended_at": NOW - 60,
                           "window_closes_at": NOW - 60 + 24 * 3600, "created": True}
    win = repo.get_win("auc_901")
    assert win is not None and win.amount == 64_200
    assert [entry.action for entry in repo.audit_for("win", "auc_901")] == ["win.recorded"]
    closing = [job for job in repo.pending_jobs(CLOSE_WINDOW) if job.ref == "auc_901"]
    assert [job.due_at for job in closing] == [NOW - 60 + 24 * 3600]


def test_the_same_win_again_answers_200_and_records_nothing_more(
        timer: FlaskClient, repo: Repository) -> None:
    assert post_win(timer).status_code == 201
    again = post_win(timer)
    assert again.status_code == 200
    assert again.json["created"] is False and again.json["id"] == "auc_901"
    assert len(repo.audit_for("win", "auc_901")) == 1


def test_the_same_auction_with_other_fields_is_a_conflict_naming_them(
        timer: FlaskClient, repo: Repository) -> None:
    assert post_win(timer).status_code == 201
    answer = post_win(timer, amount=70_000, lot=43)
    assert answer.status_code == 409
    assert answer.json["error"]["code"] == "conflict"
    assert "lot, amount" in answer.json["error"]["message"]
    win = repo.get_win("auc_901")
    assert win is not None and win.amount == 64_200


def test_a_duplicate_racing_the_first_write_is_answered_from_the_stored_win(
        app: Flask, timer: FlaskClient, monkeypatch: pytest.MonkeyPatch) -> None:
    """Both requests found no win; the second one's insert hits the primary key."""
    assert post_win(timer).status_code == 201
    repo = app.extensions[EXTENSION].repo
    stored = repo.get_win
    lookups: list[str] = []

    def first_lookup_misses(win_id: str) -> AuctionWin | None:
        lookups.append(win_id)
        return None if len(lookups) == 1 else stored(win_id)

    monkeypatch.setattr(repo, "get_win", first_lookup_misses)
    answer = post_win(timer)
    assert (answer.status_code, answer.json["created"]) == (200, False)
    lookups.clear()
    assert post_win(timer, title="Another watch").status_code == 409


@pytest.mark.parametrize(("param", "value"), [
    ("auction_id", None), ("auction_id", ""), ("auction_id", "a b"), ("auction_id", "x" * 65),
    ("lot", 0), ("lot", "17"), ("lot", True), ("lot", 1.5),
    ("title", ""), ("title", "   "), ("title", "t" * 201), ("title", 7),
    ("seller_id", None), ("seller_id", 12),
    ("buyer_id", None),
    ("amount", 0), ("amount", -5), ("amount", 100_000_000), ("amount", "642.00"),
    ("currency", "USD"), ("currency", "jpy"), ("currency", ["usd"]), ("currency", None),
    ("ended_at", NOW + 301), ("ended_at", "yesterday"), ("ended_at", 0),
])
def test_each_invalid_field_is_refused_naming_it(timer: FlaskClient, repo: Repository,
                                                 param: str, value: Any) -> None:
    answer = post_win(timer, **{param: value})
    assert answer.status_code == 400
    error = answer.json["error"]
    assert (error["code"], error["param"]) == ("invalid_request", param)
    assert param in error["message"]
    assert repo.get_win("auc_901") is None


def test_an_end_time_a_little_ahead_of_the_service_clock_is_accepted(
        timer: FlaskClient) -> None:
    assert post_win(timer, ended_at=NOW + 300).status_code == 201


def test_an_unknown_field_is_refused(timer: FlaskClient) -> None:
    answer = post_win(timer, reserve_price=1)
    assert answer.status_code == 400
    assert answer.json["error"]["param"] == "reserve_price"


@pytest.mark.parametrize("buyer_id", ["usr_nobody", ADMIN.id])
def test_a_buyer_id_that_is_not_a_buyer_is_refused(timer: FlaskClient, repo: Repository,
                                                   buyer_id: str) -> None:
    answer = post_win(timer, buyer_id=buyer_id)
    assert answer.status_code == 400
    assert answer.json["error"]["param"] == "buyer_id"
    assert buyer_id in answer.json["error"]["message"]
    assert repo.get_win("auc_901") is None


def test_a_body_that_is_not_json_is_refused(timer: FlaskClient) -> None:
    form = timer.post("/payments/wins", data={"auction_id": "auc_901"})
    assert form.status_code == 415
    broken = timer.post("/payments/wins", data="{", content_type="application/json")
    assert broken.status_code == 400
    listed = timer.post("/payments/wins", json=[WIN])
    assert listed.status_code == 400


def test_no_token_is_refused_401(app: Flask, repo: Repository) -> None:
    answer = post_win(app.test_client())
    assert answer.status_code == 401
    assert answer.json["error"]["code"] == "unauthenticated"
    assert repo.get_win("auc_901") is None
    assert [e["kind"] for e in repo.list_security_events()] == ["auction_api_unauthenticated"]


@pytest.mark.parametrize("header", ["Bearer wrong-secret", f"Bearer {TOKEN}x",
                                    f"Basic {TOKEN}", "Bearer caf\u00e9"])
def test_a_wrong_token_is_refused_401_and_recorded(app: Flask, repo: Repository,
                                                   header: str) -> None:
    answer = post_win(app.test_client(), bearer=header)
    assert answer.status_code == 401
    assert answer.json["error"]["code"] == "unauthenticated"
    assert repo.get_win("auc_901") is None
    events = repo.list_security_events()
    assert [(e["kind"], e["at"]) for e in events] == [("auction_api_unauthenticated", NOW)]
    assert TOKEN not in events[0]["detail"]


def test_a_user_api_token_does_not_open_the_auction_api(app: Flask) -> None:
    answer = post_win(app.test_client(), bearer=f"Bearer {ALICE.api_token}")
    assert answer.status_code == 401


def test_without_a_configured_token_every_call_is_refused_403(
        config: ServiceConfig, repo: Repository) -> None:
    app = service_app(dataclasses.replace(config, auction_api_token=None))
    answer = post_win(app.test_client(), bearer=f"Bearer {TOKEN}")
    assert answer.status_code == 403
    assert answer.json["error"]["message"] == (
        "The auction API is not enabled: set AUCTION_API_TOKEN.")
    assert repo.get_win("auc_901") is None
    assert [e["kind"] for e in repo.list_security_events()] == ["auction_api_disabled"]


def test_the_answers_match_the_openapi_document(timer: FlaskClient) -> None:
    spec = yaml.safe_load(DOCUMENT.read_text())
    registry: Registry[Any] = Registry().with_resource(
        "urn:openapi", Resource.from_contents(spec, default_specification=DRAFT4))

    def validate(name: str, instance: Any) -> None:
        schema = {"$ref": f"urn:openapi#/components/schemas/{name}"}
        OAS30Validator(schema, registry=registry).validate(instance)

    validate("RecordWinRequest", WIN)
    validate("Win", post_win(timer).json)
    validate("Error", post_win(timer, lot=0).json)
