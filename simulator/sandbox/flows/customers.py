"""Customers with what they hold (https://docs.stripe.com/api/customers/create): creating
or updating a customer can attach a PaymentMethod, add or replace a card source, or put
the customer on a test clock, so these steps sit above the objects they touch."""

from __future__ import annotations

from simulator.sandbox.params import apply_metadata
from simulator.sandbox.resources import customer_source
from simulator.sandbox.resources.base import Ctx, load, previous_attributes, save
from simulator.sandbox.resources.customer import Customer, set_cash_reconciliation
from simulator.sandbox.resources.customer_requests import (
    TEXT_FIELDS,
    UNSET,
    CustomerCreate,
    CustomerFields,
    CustomerUpdate,
)
from simulator.sandbox.resources.payment_method import (
    attach,
    check_attachable,
    require_attached,
    resolve_payment_method,
)
from simulator.sandbox.resources.test_clock import TestClock


def apply_customer_fields(ctx: Ctx, customer: Customer, fields: CustomerFields,
                          attaching: tuple[str, str] | None = None) -> None:
    for name in TEXT_FIELDS:
        if (value := getattr(fields, name)) is not UNSET:
            setattr(customer, name, value)
    if fields.address is not UNSET:
        customer.address = fields.address
    if fields.shipping is not UNSET:
        customer.shipping = fields.shipping
    if fields.balance is not None:
        customer.balance = fields.balance
    if fields.preferred_locales is not None:
        customer.preferred_locales = fields.preferred_locales
    if fields.tax_exempt is not None:
        customer.tax_exempt = fields.tax_exempt
    set_cash_reconciliation(customer, fields.cash_reconciliation)
    if fields.default_payment_method is not UNSET:
        customer.default_payment_method = _attached_payment_method(
            ctx, customer, fields.default_payment_method, attaching)
    customer.metadata = apply_metadata(customer.metadata, fields.metadata)


def _attached_payment_method(ctx: Ctx, customer: Customer, pm_id: str | None,
                             attaching: tuple[str, str] | None = None) -> str | None:
    """``attaching``: (the id asked for, the PaymentMethod's id) of the one this request
    attaches, so ``payment_method=pm_card_visa`` with
    ``invoice_settings[default_payment_method]=pm_card_visa`` names one PaymentMethod."""
    if pm_id is None:
        return None
    if attaching is not None and pm_id == attaching[0]:
        return attaching[1]
    return require_attached(ctx, pm_id, customer.id, "invoice_settings[default_payment_method]")


def create_customer(ctx: Ctx, request: CustomerCreate) -> Customer:
    customer = Customer(
        id=ctx.ids.new("cus", 14),
        created=ctx.now,
        invoice_prefix=ctx.ids.hex(4).upper()[:7],
        address=None,
    )
    if request.test_clock is not None:
        clock = load(ctx, TestClock, request.test_clock, param="test_clock")
        customer.test_clock = clock.id
        customer.created = clock.frozen_time
    payment_method, source = request.payment_method, request.source
    pm = None
    if payment_method is not None:
        # A declining card fails before anything is written (card errors commit).
        pm, _ = resolve_payment_method(ctx, payment_method, "payment_method")
        check_attachable(pm)
    apply_customer_fields(ctx, customer, request.fields,
                          (payment_method, pm.id) if payment_method and pm is not None else None)
    # A token the issuer declines fails the request before anything is written.
    card = customer_source.prepare_source(ctx, source) if source is not None else None
    if card is not None:
        customer.default_source = card.id
    save(ctx, customer)
    ctx.emit("customer.created", customer)
    if card is not None:
        customer_source.add_card(ctx, customer, card)
    if pm is not None:
        attach(ctx, pm, customer.id)
    return customer


def update_customer(ctx: Ctx, customer_id: str, request: CustomerUpdate) -> Customer:
    customer = load(ctx, Customer, customer_id)
    before = customer.serialize(ctx)
    apply_customer_fields(ctx, customer, request.fields)
    if request.source is not None:
        card = customer_source.prepare_source(ctx, request.source)
        customer_source.replace_default_source(ctx, customer, card)
    if request.default_source is not UNSET:
        customer_source.set_default_source(ctx, customer, request.default_source)
    save(ctx, customer)
    after = customer.serialize(ctx)
    if after != before:
        ctx.emit("customer.updated", customer, previous_attributes(before, after))
    return customer
