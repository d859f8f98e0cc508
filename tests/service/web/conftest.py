"""The service's Flask app over a real SQLite repository, with a fake PaymentService,
and test clients for an API caller, a signed-in browser and nobody."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from freezegun import freeze_time
from web_support import (
    ADMIN,
    ALICE,
    BOB,
    LOT_17,
    LOT_18,
    NOW,
    PASSWORD_HASHES,
    WEBHOOK_SECRET,
    FakePaymentService,
    sign_in,
)

from harness.service import service_config
from simulator.common.clock import Clock
from simulator.service.adapters.repositories import Repository
from simulator.service.app import create_app
from simulator.service.config import ServiceConfig
from simulator.service.domain.user import User
from simulator.service.web.runtime import runtime_of

UNREACHABLE_STRIPE = "http://127.0.0.1:9"


@pytest.fixture(autouse=True)
def frozen_time() -> Iterator[None]:
    with freeze_time(dt.datetime.fromtimestamp(NOW, tz=dt.UTC)):
        yield


@pytest.fixture
def config(tmp_path: object) -> ServiceConfig:
    return service_config(str(tmp_path), UNREACHABLE_STRIPE,
                          stripe_webhook_secret=WEBHOOK_SECRET)


@pytest.fixture
def repo(config: ServiceConfig) -> Iterator[Repository]:
    repository = Repository(config.db_path)
    with repository.transaction():
        for user in (ALICE, BOB, ADMIN):
            repository.add_user(user)
            repository.set_password_hash(user.id, PASSWORD_HASHES[user.id])
        repository.add_win(LOT_17)
        repository.add_win(LOT_18)
    yield repository
    repository.close()


@pytest.fixture
def service() -> FakePaymentService:
    return FakePaymentService()


@pytest.fixture
def app(config: ServiceConfig, repo: Repository, service: FakePaymentService) -> Flask:
    clock = Clock()
    flask_app = create_app(config, clock=clock, service=service)  # type: ignore[arg-type]
    service.attach_inbox(repo, clock)
    flask_app.testing = True
    return flask_app


@pytest.fixture
def test_token(app: Flask) -> str:
    """What the test routes ask for in ``X-Test-Token``."""
    token = runtime_of(app).test_token
    assert token
    return token


@pytest.fixture
def control(app: Flask, test_token: str) -> FlaskClient:
    """A client of the test routes, carrying the test token."""
    client = app.test_client()
    client.environ_base["HTTP_X_TEST_TOKEN"] = test_token
    return client


@pytest.fixture
def anonymous(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def api_as(app: Flask) -> Callable[[User], FlaskClient]:
    def make(user: User) -> FlaskClient:
        client = app.test_client()
        client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {user.api_token}"
        return client

    return make


@pytest.fixture
def browser_as(app: Flask) -> Callable[[User], FlaskClient]:
    """A browser signed in as ``user`` with their password (session cookie + CSRF token)."""

    def make(user: User) -> FlaskClient:
        client = app.test_client()
        answer = sign_in(client, user)
        assert answer.status_code == 303, answer.text
        return client

    return make


@pytest.fixture
def alice(browser_as: Callable[[User], FlaskClient]) -> FlaskClient:
    return browser_as(ALICE)


@pytest.fixture
def admin(browser_as: Callable[[User], FlaskClient]) -> FlaskClient:
    return browser_as(ADMIN)


@pytest.fixture
def bob(browser_as: Callable[[User], FlaskClient]) -> FlaskClient:
    return browser_as(BOB)
