"""Servers for the load runs that target running ones."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from simulator.bench.servers import Stack, start_stack


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """A sandbox and a payment service started here, for runs that target them (shared
    by the tests that leave them as they found them)."""
    started = start_stack(tmp_path_factory.mktemp("servers"))
    yield started
    started.stop()


@pytest.fixture
def own_stack(tmp_path: Path) -> Iterator[Stack]:
    """Servers for a test that breaks them."""
    started = start_stack(tmp_path / "servers")
    yield started
    started.stop()
