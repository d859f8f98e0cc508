"""An admin's refund through the real gateway and the sandbox: Stripe refunds the payment
once however often it is asked, and the order ends refunded."""

from __future__ import annotations

import pytest
from integration_support import ADMIN, Marketplace, eventually

from simulator.service.payments.errors import PaymentRefused


def test_an_admin_refund_goes_through_stripe_once(market: Marketplace) -> None:
    win = market.win(81, 12_300)
    assert market.pay(market.start(win)["payment_session_id"])["status"] == "paid"
    [order] = market.orders(win)
    [txn] = market.transactions(win)
    runtime = market.service.runtime

    requested = runtime.service.refund_order(runtime.gateway, ADMIN.id, order.id)
    again = runtime.gateway.refund_payment(str(txn.payment_intent_id),
                                           idempotency_key=f"refund-{order.id}")

    assert (requested.status, requested.amount) == ("succeeded", 12_300)
    assert again.id == requested.refund_id  # the same key replays the same refund
    refunds = market.sandbox.sdk.v1.refunds.list(
        params={"payment_intent": str(txn.payment_intent_id)})
    assert [refund.id for refund in refunds.data] == [requested.refund_id]
    assert eventually(lambda: market.orders(win)[0].status == "refunded",
                      market.sandbox.drain)
    assert market.inbox_failures() == []
    with pytest.raises(PaymentRefused) as refused:
        runtime.service.refund_order(runtime.gateway, ADMIN.id, order.id)
    assert refused.value.code == "not_refundable"
