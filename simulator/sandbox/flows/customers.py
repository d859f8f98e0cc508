"""Customers with what they hold (https://docs.stripe.com/api/customers/create): creating
or updating a customer can attach a PaymentMethod, add or replace a card source, or put
the customer on a test clock, so these steps sit above the objects they touch."""

from __future__ import annotations

from simulator.sandbox.params import Params, apply_metadata
from simulator.sandbox.resources import customer_source
from simulator.sandbox.resources.base import Ctx, load, previous_attributes, save
from simulator.sandbox.resources.common import read_address, read_shipping
from simulator.sandbox.resources.customer import TAX_EXEMPT, Customer, read_cash_settings
from simulator.sandbox.resources.payment_method import (
    attach,
    check_attachable,
    require_attached,
    resolve_payment_method,
)
from simulator.sandbox.resources.test_clock import TestClock


def apply_customer_fields(ctx: Ctx, customer: Customer, params: Params,
                  attaching: tuple[str, str] | None = None) -> None:
    for name in ("email", "name", "description", "phone"):
        if name in params:
            setattr(customer, name, params.string(name, max_length=512))
    if "address" in params:
        address = params.hash("address")
        customer.address = read_address(address) if address and not address.is_empty() else None
    if "shipping" in params:
        customer.shipping = read_shipping(params.hash("shipping"))
    if (balance := params.integer("balance")) is not None:
        customer.balance = balance
    if (locales := params.strings("preferred_locales")) is not None:
        customer.preferred_locales = locales
    if (tax_exempt := params.enum("tax_exempt", TAX_EXEMPT)) is not None:
        customer.tax_exempt = tax_exempt
    read_cash_settings(customer, params.hash("cash_balance"))
    invoice_settings = params.hash("invoice_settings")
    if invoice_settings is not None and "default_payment_method" in invoice_settings:
        customer.default_payment_method = _attached_payment_method(
                ctx, customer, invoice_settings.string("default_payment_method"), attaching
            )
    customer.metadata = apply_metadata(customer.metadata, params.metadata())


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


def create_customer(ctx: Ctx, params: Params) -> Customer:
    customer = Customer(
        id=ctx.ids.new("cus", 14),
        created=ctx.now,
        invoice_prefix=ctx.ids.hex(4).upper()[:7],
        address=None,
    )
    if (clock_id := params.string("test_clock")) is not None:
        clock = load(ctx, TestClock, clock_id, param="test_clock")
        customer.test_clock = clock.id
        customer.created = clock.frozen_time
    payment_method = params.string("payment_method")
    source = params.string("source")
    pm = None
    if payment_method is not None:
        # A declining card fails before anything is written (card errors commit).
        pm, _ = resolve_payment_method(ctx, payment_method, "payment_method")
        check_attachable(pm)
    apply_customer_fields(ctx, customer, params,
                  (payment_method, pm.id) if payment_method and pm is not None else None)
    params.finish()
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


def update_customer(ctx: Ctx, customer_id: str, params: Params) -> Customer:
    customer = load(ctx, Customer, customer_id)
    before = customer.serialize(ctx)
    apply_customer_fields(ctx, customer, params)
    source = params.string("source")
    changes_default = "default_source" in params
    default_source = params.string("default_source")
    params.finish()
    if source is not None:
        card = customer_source.prepare_source(ctx, source)
        customer_source.replace_default_source(ctx, customer, card)
    if changes_default:
        customer_source.set_default_source(ctx, customer, default_source)
    save(ctx, customer)
    after = customer.serialize(ctx)
    if after != before:
        ctx.emit("customer.updated", customer, previous_attributes(before, after))
    return customer
