"""Every /v1 blueprint, in one list."""

from __future__ import annotations

from flask import Blueprint

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


def blueprints() -> list[Blueprint]:
    return [
        search.bp,
        customers.bp,
        cash_balances.bp,
        catalog.bp,
        payments.bp,
        disputes.bp,
        setup_intents.bp,
        sources.bp,
        coupons.bp,
        checkout.bp,
        payment_pages.bp,
        events.bp,
        test_clocks.bp,
    ]
