"""An administrator refunds a paid order through Stripe: once, however often asked,
recorded in the audit log, and only for a paid order."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from payments_support import World

from simulator.service.adapters.stripe_gateway import RefundInfo
from simulator.service.payments.errors import PaymentRefused


@dataclass
class RefundingStripe:
    """Stripe's refunds endpoint as it behaves with idempotency keys: the same key
    replays the first refund."""

    status: str = "succeeded"
    refunds: dict[str, RefundInfo] = field(default_factory=dict)
    calls: list[tuple[str, str]] = field(default_factory=list)
    amounts: dict[str, int] = field(default_factory=dict)

    def refund_payment(self, payment_intent_id: str, *, idempotency_key: str) -> RefundInfo:
        self.calls.append((payment_intent_id, idempotency_key))
        if idempotency_key not in self.refunds:
            self.refunds[idempotency_key] = RefundInfo(
                f"re_{len(self.refunds) + 1}", self.status, self.amounts[payment_intent_id])
        return self.refunds[idempotency_key]


def _paid(world: World) -> tuple[str, str]:
    events = world.stripe.pay(world.start())
    world.deliver(*events)
    order = world.repo.order_for_win(world.win.id)
    assert order is not None and order.status == "paid"
    return order.id, events[1]["data"]["object"]["id"]


def test_a_refund_refunds_the_order_and_is_audited(world: World) -> None:
    order_id, payment_intent = _paid(world)
    stripe = RefundingStripe(amounts={payment_intent: 64_200})

    requested = world.service.refund_order(stripe, world.admin.id, order_id)

    assert (requested.refund_id, requested.status, requested.amount) == ("re_1", "succeeded",
                                                                        64_200)
    assert world.repo.get_order(order_id).status == "refunded"  # type: ignore[union-attr]
    [entry] = [e for e in world.repo.audit_for("order", order_id)
               if e.action == "order.refund_requested"]
    assert entry.actor == f"user:{world.admin.id}"
    assert entry.after == {"refund_id": "re_1", "refund_status": "succeeded", "amount": 64_200}


def test_a_double_click_refunds_once(world: World) -> None:
    order_id, payment_intent = _paid(world)
    stripe = RefundingStripe(status="pending", amounts={payment_intent: 64_200})

    world.service.refund_order(stripe, world.admin.id, order_id)
    world.service.refund_order(stripe, world.admin.id, order_id)

    assert len({key for _, key in stripe.calls}) == 1
    assert len(stripe.refunds) == 1


def test_a_pending_refund_completes_when_stripes_event_arrives(world: World) -> None:
    order_id, payment_intent = _paid(world)
    stripe = RefundingStripe(status="pending", amounts={payment_intent: 64_200})

    world.service.refund_order(stripe, world.admin.id, order_id)
    assert world.repo.get_order(order_id).status == "paid"  # type: ignore[union-attr]
    world.deliver(world.stripe.refund(payment_intent))

    assert world.repo.get_order(order_id).status == "refunded"  # type: ignore[union-attr]


def test_a_refunded_order_cannot_be_refunded_again(world: World) -> None:
    order_id, payment_intent = _paid(world)
    stripe = RefundingStripe(amounts={payment_intent: 64_200})
    world.service.refund_order(stripe, world.admin.id, order_id)

    with pytest.raises(PaymentRefused) as refused:
        world.service.refund_order(stripe, world.admin.id, order_id)

    assert (refused.value.code, refused.value.http_status) == ("not_refundable", 409)
    assert "is refunded" in refused.value.message
    assert len(stripe.calls) == 1


def test_only_an_admin_refunds_and_only_an_existing_order(world: World) -> None:
    order_id, payment_intent = _paid(world)
    stripe = RefundingStripe(amounts={payment_intent: 64_200})

    with pytest.raises(PaymentRefused) as buyer:
        world.service.refund_order(stripe, world.buyer.id, order_id)
    with pytest.raises(PaymentRefused) as missing:
        world.service.refund_order(stripe, world.admin.id, "ord_missing")

    assert buyer.value.code == "forbidden" and missing.value.code == "not_found"
    assert stripe.calls == []
