"""PaymentMethods (placeholder until the card module lands)."""

from __future__ import annotations

from simulator.sandbox.errors import resource_missing
from simulator.sandbox.resources.base import Ctx


def require_attached(ctx: Ctx, pm_id: str, customer_id: str, param: str) -> str:
    raise resource_missing("PaymentMethod", pm_id, param)


def attach_payment_method(ctx: Ctx, pm_id: str, customer_id: str, param: str) -> None:
    raise resource_missing("PaymentMethod", pm_id, param)
