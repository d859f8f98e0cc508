"""Test clocks (placeholder)."""

from __future__ import annotations

from dataclasses import dataclass

from simulator.sandbox.resources.base import StripeObject, register


@register
@dataclass(kw_only=True)
class TestClock(StripeObject):
    OBJECT = "test_helpers.test_clock"
    PREFIX = "clock"
    NOUN = "billingclock"
    frozen_time: int = 0
