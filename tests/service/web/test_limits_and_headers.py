"""Abuse limits and what every answer carries: 429 with ``Retry-After`` under a burst
(sign-in, checkout create, retry, the webhook endpoint), counted as security events; the
security headers on every page, API answer and error."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from web_support import ALICE, PASSWORDS, FakePaymentService, csrf, sign_in

from simulator.common.clock import Clock
from simulator.service.adapters.repositories import Repository
from simulator.service.app import create_app
from simulator.service.config import ServiceConfig
from simulator.service.domain.user import User
from simulator.service.web.headers import CONTENT_SECURITY_POLICY
from simulator.service.web.limits import limits_enabled


@pytest.fixture(autouse=True)
def frozen_time() -> Iterator[None]:
    """Real time here: the limits' in-memory windows do not count under freezegun."""
    yield


@pytest.fixture
def limited(config: ServiceConfig, repo: Repository, service: FakePaymentService) -> Flask:
    """The app with its rate limits on (test mode turns them off by default)."""
    limits = dataclasses.replace(
        config, rate_limits="on", sign_in_limit="5 per minute", checkout_limit="3 per minute",
        retry_limit="3 per minute", webhook_limit="10 per minute",
        sign_in_failures_per_account="3 per 15 minutes")
    app = create_app(limits, clock=Clock(), service=service)  # type: ignore[arg-type]
    service.attach_inbox(repo, Clock())
    return app


def _assert_limited(answer: object) -> None:
    assert answer.status_code == 429, answer.text  # type: ignore[attr-defined]
    assert int(answer.headers["Retry-After"]) > 0  # type: ignore[attr-defined]


def test_limits_are_on_by_default_except_in_test_mode(config: ServiceConfig) -> None:
    auto = dataclasses.replace(config, rate_limits="auto")
    assert not limits_enabled(auto)  # test mode
    assert limits_enabled(dataclasses.replace(auto, test_mode=False))
    assert not limits_enabled(dataclasses.replace(config, test_mode=False, rate_limits="off"))
    assert limits_enabled(dataclasses.replace(config, rate_limits="on"))


def test_a_burst_of_sign_ins_gets_429_with_retry_after(limited: Flask,
                                                       repo: Repository) -> None:
    client = limited.test_client()
    client.get("/payments/login")
    answers = [client.post("/payments/login", data={
        "email": f"nobody{n}@example.test", "password": "x", "csrf_token": csrf(client)})
        for n in range(8)]
    assert [a.status_code for a in answers] == [401] * 5 + [429] * 3
    for answer in answers[5:]:
        _assert_limited(answer)
    assert 'data-code="rate_limited"' in answers[-1].text
    kinds = {e["kind"]: e for e in repo.list_security_events()}
    assert kinds["rate_limited"]["count"] == 3  # counted, one row


def test_failed_sign_ins_are_limited_per_account_whatever_the_address(
        limited: Flask) -> None:
    for number in range(3):
        client = limited.test_client()
        client.environ_base["REMOTE_ADDR"] = f"10.0.0.{number}"
        assert sign_in(client, ALICE, "wrong-password-guess").status_code == 401
    other = limited.test_client()
    other.environ_base["REMOTE_ADDR"] = "10.0.0.99"
    _assert_limited(sign_in(other, ALICE, PASSWORDS[ALICE.id]))  # locked for a while
    assert sign_in(limited.test_client(), User("usr_bob", "", "bob@example.test", "buyer", ""),
                   PASSWORDS["usr_bob"]).status_code == 303  # others are not


def test_a_burst_of_checkout_creates_and_retries_gets_429(
        limited: Flask, api_as: Callable[[User], FlaskClient]) -> None:
    client = limited.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {ALICE.api_token}"
    creates = [client.post("/payments/checkout/create", json={"auction_id": "win_17"})
               for _ in range(5)]
    assert [a.status_code for a in creates[:3]] == [201] * 3
    _assert_limited(creates[3])
    assert creates[3].json["error"]["code"] == "rate_limited"
    retries = [client.post("/payments/retry/ps_1") for _ in range(4)]
    _assert_limited(retries[3])


def test_a_burst_on_the_webhook_endpoint_gets_429(limited: Flask) -> None:
    client = limited.test_client()
    answers = [client.post("/payments/webhooks/stripe", data=b"{}",
                           headers={"Content-Type": "application/json"}) for _ in range(12)]
    assert [a.status_code for a in answers[:10]] == [400] * 10
    _assert_limited(answers[11])
    assert answers[11].json["error"]["code"] == "rate_limited"


PAGES = ["/payments/login", "/payments/winnings", "/payments/admin/", "/payments/admin/security",
         "/openapi.yaml", "/payments/health", "/payments/static/service.css", "/nowhere",
         "/payments/checkout/ps_1/status"]


@pytest.mark.parametrize("path", PAGES)
def test_every_answer_carries_the_security_headers(admin: FlaskClient, anonymous: FlaskClient,
                                                   path: str) -> None:
    for client in (admin, anonymous):
        answer = client.get(path)
        assert answer.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
        assert "frame-ancestors 'none'" in answer.headers["Content-Security-Policy"]
        assert answer.headers["X-Content-Type-Options"] == "nosniff"
        assert answer.headers["Referrer-Policy"] == "same-origin"
        assert "Strict-Transport-Security" not in answer.headers  # plain http


def test_hsts_when_the_public_url_is_https(config: ServiceConfig,
                                           service: FakePaymentService) -> None:
    app = create_app(dataclasses.replace(config, public_url="https://pay.example.test"),
                     clock=Clock(), service=service)  # type: ignore[arg-type]
    answer = app.test_client().get("/payments/login")
    assert answer.headers["Strict-Transport-Security"].startswith("max-age=")


def test_the_templates_need_no_inline_script_or_style(admin: FlaskClient) -> None:
    """What the policy forbids: a page still working means none of these are used."""
    for path in ("/payments/login", "/payments/winnings", "/payments/admin/"):
        page = admin.get(path).text.lower()
        assert "<script>" not in page and "<style" not in page and " style=" not in page
        assert " onclick=" not in page and "javascript:" not in page
