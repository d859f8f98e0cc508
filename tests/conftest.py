from __future__ import annotations

from collections.abc import Iterator

import pytest
import stripe
from flask import Flask
from flask.testing import FlaskClient

from harness.servers import RunningServer, start_sandbox
from simulator.sandbox.app import create_app
from simulator.sandbox.runtime import SandboxConfig

TEST_KEY = "sk_test_sandbox_contract_tests"


@pytest.fixture
def sandbox_app(tmp_path: object) -> Flask:
    return create_app(SandboxConfig(db_path=f"{tmp_path}/sandbox.sqlite3", public_url="http://sandbox.test"))


@pytest.fixture
def api(sandbox_app: Flask) -> FlaskClient:
    client = sandbox_app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {TEST_KEY}"
    return client


@pytest.fixture(scope="session")
def sandbox_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    server = start_sandbox(tmp_path_factory.mktemp("sandbox"))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def client(sandbox_server: RunningServer) -> stripe.StripeClient:
    """The official SDK, pointed at the sandbox; no automatic retries so errors surface."""
    return stripe.StripeClient(
        TEST_KEY,
        base_addresses={"api": sandbox_server.url},
        max_network_retries=0,
    )
