"""Fixtures shared by the contract tests that speak raw HTTP to the sandbox."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from harness.servers import RunningServer

RAW_HTTP_KEY = "sk_test_wire_protocol"


@pytest.fixture
def http(sandbox_server: RunningServer) -> Iterator[requests.Session]:
    """A plain HTTP session with a test key, for what the SDK cannot send or show."""
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {RAW_HTTP_KEY}"
    yield session
    session.close()


@pytest.fixture
def faults(sandbox_server: RunningServer) -> Iterator[str]:
    """The fault-injection URL; whatever a test leaves behind is cleared afterwards."""
    url = f"{sandbox_server.url}/_sandbox/faults"
    yield url
    requests.delete(url, timeout=10)
