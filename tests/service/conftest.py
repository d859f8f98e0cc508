"""Fixtures shared by the payment service's in-process tests."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from freezegun.api import FrozenDateTimeFactory
from payments_support import World, frozen_at, make_world


@pytest.fixture
def frozen() -> Iterator[FrozenDateTimeFactory]:
    with frozen_at() as factory:
        yield factory


@pytest.fixture
def world(tmp_path: Any, frozen: FrozenDateTimeFactory) -> Iterator[World]:
    built = make_world(tmp_path, frozen)
    yield built
    built.repo.close()
