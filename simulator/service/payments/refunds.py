"""An administrator refunds a paid order in full through Stripe.

The refund request carries an idempotency key derived from the order, so a double click
(or a retry after a lost answer) makes one refund: Stripe replays the first answer
(https://docs.stripe.com/api/idempotent_requests). The order becomes ``refunded`` the way
every refund is recorded (``outcomes.record_refund``): at once when Stripe's answer says
the refund succeeded, otherwise when its ``charge.refunded`` event arrives; recording it
twice is a no-op."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from simulator.service.adapters.stripe_gateway import RefundInfo
from simulator.service.domain.audit import user_actor
from simulator.service.domain.transaction import Transaction
from simulator.service.payments.context import PaymentContext
from simulator.service.payments.errors import PaymentRefused
from simulator.service.payments.outcomes import record_refund


class RefundGateway(Protocol):
    def refund_payment(self, payment_intent_id: str, *, idempotency_key: str) -> RefundInfo: ...


@dataclass(frozen=True)
class RefundRequested:
    order_id: str
    refund_id: str
    status: str
    amount: int


def refund_idempotency_key(order_id: str) -> str:
    return f"refund-{order_id}"


def refund_order(ctx: PaymentContext, gateway: RefundGateway, admin_id: str,
                 order_id: str) -> RefundRequested:
    """Refund ``order_id`` in full, as ``admin_id``; refused unless the order is paid."""
    admin = ctx.repo.get_user(admin_id)
    if admin is None or not admin.is_admin:
        raise PaymentRefused("forbidden", 403, "Only an administrator can refund an order.")
    txn = _paid_transaction(ctx, order_id)
    refund = gateway.refund_payment(txn.payment_intent_id,
                                    idempotency_key=refund_idempotency_key(order_id))
    with ctx.repo.transaction():
        ctx.audit(user_actor(admin_id), "order.refund_requested", "order", order_id,
                  {"transaction_id": txn.id},
                  {"refund_id": refund.id, "refund_status": refund.status,
                   "amount": refund.amount})
    if refund.status == "succeeded":
        record_refund(ctx, txn, txn.amount_refunded + refund.amount)
    return RefundRequested(order_id, refund.id, refund.status, refund.amount)


def _paid_transaction(ctx: PaymentContext, order_id: str) -> Transaction:
    order = ctx.repo.get_order(order_id)
    if order is None:
        raise PaymentRefused("not_found", 404, f"No such order: {order_id}")
    if order.status != "paid":
        raise PaymentRefused("not_refundable", 409,
                             f"Order {order_id} is {order.status}; only a paid order can be"
                             " refunded.")
    txn = ctx.repo.get_transaction(order.transaction_id) if order.transaction_id else None
    if txn is None or not txn.payment_intent_id:
        raise PaymentRefused("not_refundable", 409,
                             f"Order {order_id} has no payment to refund.")
    return txn
