"""Fixtures for webhook delivery against real sandbox processes and a real receiver."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from webhook_sandbox import Endpoint, Sandbox, endpoint_for, sandbox_at

from harness.servers import start_sandbox
from simulator.sandbox.webhooks.receiver import WebhookReceiver


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    """A sandbox of its own per test module: clock moves and settings stay local."""
    server = start_sandbox(tmp_path_factory.mktemp("webhook-sandbox"), workers=2, threads=4)
    yield sandbox_at(server)
    server.stop()


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as running:
        yield running


@pytest.fixture
def endpoint(sandbox: Sandbox, receiver: WebhookReceiver) -> Iterator[Endpoint]:
    """A customer.created endpoint delivering to ``receiver``."""
    yield from endpoint_for(sandbox, receiver, ["customer.created"])
