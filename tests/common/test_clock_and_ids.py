from __future__ import annotations

import datetime as dt

from freezegun import freeze_time

from simulator.common.clock import Clock
from simulator.common.ids import IdGenerator


@freeze_time("2026-11-21 12:00:00")
def test_clock_is_frozen_time_plus_offset() -> None:
    clock = Clock()
    assert clock.timestamp() == int(dt.datetime(2026, 11, 21, 12, tzinfo=dt.UTC).timestamp())
    clock.advance(86_400)
    assert clock.datetime() == dt.datetime(2026, 11, 22, 12, tzinfo=dt.UTC)


def test_shared_offset_source_wins() -> None:
    offsets = [0.0]
    clock = Clock(offset_source=lambda: offsets[0])
    before = clock.now()
    offsets[0] = 3600.0
    assert 3599 < clock.now() - before < 3601


def test_ids_have_stripe_shape_and_seeded_ids_repeat() -> None:
    first, second = IdGenerator(seed=7), IdGenerator(seed=7)
    assert first.new("cus", 14) == second.new("cus", 14)
    assert IdGenerator().new("pi").startswith("pi_")
    assert len(IdGenerator().new("pi")) == 3 + 24
    assert IdGenerator().secret("whsec").startswith("whsec_")
