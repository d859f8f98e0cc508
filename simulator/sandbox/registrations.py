"""Everything the sandbox knows, registered in one place at start-up.

A new Stripe object is added to ``RESOURCES`` (so stored rows, expansions and search can
find its class by its ``object`` name), a new timed rule to ``JOB_HANDLERS``, a new /v1
route module's blueprint to ``BLUEPRINTS``, and whatever must hear of every event to
``EVENT_LISTENERS``. Nothing registers itself as a side effect of being imported:
``create_app`` calls :func:`register_everything`, and so does any process that runs the
sandbox's jobs without an app.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from flask import Blueprint

from simulator.sandbox import jobs, webhooks
from simulator.sandbox.api import (
    cash_balances,
    catalog,
    checkout,
    coupons,
    customers,
    disputes,
    events,
    payment_pages,
    payments,
    search,
    setup_intents,
    sources,
    test_clocks,
)
from simulator.sandbox.control import routes as control
from simulator.sandbox.control import three_d_secure
from simulator.sandbox.control import webhooks as control_webhooks
from simulator.sandbox.dashboard import routes as dashboard
from simulator.sandbox.flows import bank_settlement, checkout_expiry
from simulator.sandbox.hosted import routes as hosted
from simulator.sandbox.resources import (
    balance_transaction,
    bank_debit,
    card,
    cash_balance,
    charge,
    checkout_line_items,
    checkout_session,
    coupon,
    customer,
    dispute,
    event,
    payment_intent,
    payment_method,
    price,
    product,
    refund,
    setup_intent,
    test_clock,
    token,
    webhook_endpoint,
)
from simulator.sandbox.resources.base import REGISTRY, StripeObject
from simulator.sandbox.resources.event import EventListener
from simulator.sandbox.store import Indexer

RESOURCES: tuple[type[StripeObject], ...] = (
    balance_transaction.BalanceTransaction, card.Card, cash_balance.CashBalanceTransaction,
    charge.Charge, checkout_line_items.LineItem, checkout_session.CheckoutSession,
    coupon.Coupon, customer.Customer, dispute.Dispute, event.Event,
    payment_intent.PaymentIntent, payment_method.PaymentMethod, price.Price,
    product.Product, refund.Refund, setup_intent.SetupIntent, test_clock.TestClock,
    token.Token, webhook_endpoint.WebhookEndpoint,
)
JOB_HANDLERS: Mapping[str, jobs.JobHandler] = {
    bank_debit.SETTLE_JOB: bank_settlement.settle_debit,
    checkout_expiry.EXPIRE_JOB: checkout_expiry.expire_when_due,
    dispute.RESOLVE_JOB: dispute.resolve_dispute,
    refund.SETTLE_JOB: refund.settle_pending_refund,
    refund.FAIL_JOB: refund.fail_refund,
    test_clock.ADVANCE_JOB: test_clock.finish_advance,
}
# /v1 first (search before the routes whose ids it could shadow), then the sandbox's own.
BLUEPRINTS: tuple[Blueprint, ...] = (
    search.bp, customers.bp, cash_balances.bp, catalog.bp, payments.bp, disputes.bp,
    setup_intents.bp, sources.bp, coupons.bp, checkout.bp, payment_pages.bp, events.bp,
    test_clocks.bp,
    control.bp, control_webhooks.bp, three_d_secure.bp, hosted.bp,
    dashboard.bp,  # at / (its browser redirect runs before auth)
)
# Told of every event as it is recorded, in the request's transaction.
EVENT_LISTENERS: tuple[EventListener, ...] = (webhooks.queue_deliveries,)


def stored_filters(object_type: str, state: dict[str, Any]) -> Mapping[str, str | None]:
    """An object's list filters computed from its stored state, to fill
    ``object_filters`` for a file written before it or before a class's filters changed."""
    cls = REGISTRY.get(object_type)
    return cls.from_state(state).index() if cls is not None else {}


# Raise it when a class changes how it computes a filter's value but not its names.
FILTERS_REVISION = 1


def _filters_version() -> str:
    """Changes whenever any object class declares other filters (``FILTERS``)."""
    declared = sorted((cls.OBJECT, cls.FILTERS) for cls in RESOURCES)
    digest = hashlib.sha256(repr((FILTERS_REVISION, declared)).encode()).hexdigest()
    return digest[:16]


# How the store re-indexes a file whose filter rows another version made.
INDEXER = Indexer(stored_filters, _filters_version())


def register_everything() -> None:
    """Fill the object and job registries; calling it again changes nothing."""
    for cls in RESOURCES:
        REGISTRY[cls.OBJECT] = cls
    for kind, handler in JOB_HANDLERS.items():
        jobs.register_job(kind, handler)
