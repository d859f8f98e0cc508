"""Customers (https://docs.stripe.com/api/customers)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from simulator.sandbox.errors import resource_missing
from simulator.sandbox.params import Params, apply_metadata
from simulator.sandbox.resources.base import (
    Ctx,
    StripeObject,
    find,
    load,
    previous_attributes,
    register,
    save,
)
from simulator.sandbox.resources.common import read_address, read_shipping

TAX_EXEMPT = ("none", "exempt", "reverse")


@register
@dataclass(kw_only=True)
class Customer(StripeObject):
    OBJECT = "customer"
    PREFIX = "cus"
    NOUN = "customer"
    EXPANDABLE = frozenset({"default_source", "test_clock", "invoice_settings"})

    email: str | None = None
    name: str | None = None
    description: str | None = None
    phone: str | None = None
    address: dict[str, Any] | None = None
    shipping: dict[str, Any] | None = None
    balance: int = 0
    currency: str | None = None
    invoice_prefix: str = ""
    default_payment_method: str | None = None
    preferred_locales: list[str] = field(default_factory=list)
    tax_exempt: str = "none"
    test_clock: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    deleted: bool = False

    def index(self) -> dict[str, str | None]:
        return {"subtype": self.email}

    def is_deleted(self) -> bool:
        return self.deleted

    def serialize(self, ctx: Ctx) -> dict[str, Any]:
        if self.deleted:
            return {"id": self.id, "object": "customer", "deleted": True}
        return {
            "id": self.id,
            "object": "customer",
            "address": self.address,
            "balance": self.balance,
            "created": self.created,
            "currency": self.currency,
            "default_source": None,
            "delinquent": False,
            "description": self.description,
            "discount": None,
            "email": self.email,
            "invoice_prefix": self.invoice_prefix,
            "invoice_settings": {
                "custom_fields": None,
                "default_payment_method": self.default_payment_method,
                "footer": None,
                "rendering_options": None,
            },
            "livemode": False,
            "metadata": dict(self.metadata),
            "name": self.name,
            "next_invoice_sequence": 1,
            "phone": self.phone,
            "preferred_locales": list(self.preferred_locales),
            "shipping": self.shipping,
            "tax_exempt": self.tax_exempt,
            "test_clock": self.test_clock,
        }


def _apply_common(ctx: Ctx, customer: Customer, params: Params) -> None:
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
    invoice_settings = params.hash("invoice_settings")
    if invoice_settings is not None and "default_payment_method" in invoice_settings:
        customer.default_payment_method = _attached_payment_method(
                ctx, customer, invoice_settings.string("default_payment_method")
            )
    customer.metadata = apply_metadata(customer.metadata, params.metadata())


def _attached_payment_method(ctx: Ctx, customer: Customer, pm_id: str | None) -> str | None:
    if pm_id is None:
        return None
    from simulator.sandbox.resources.payment_method import require_attached

    return require_attached(ctx, pm_id, customer.id, "invoice_settings[default_payment_method]")


def create_customer(ctx: Ctx, params: Params) -> Customer:
    customer = Customer(
        id=ctx.ids.new("cus", 14),
        created=ctx.now,
        invoice_prefix=ctx.ids.hex(4).upper()[:7],
        address=None,
    )
    if (clock_id := params.string("test_clock")) is not None:
        from simulator.sandbox.resources.test_clock import TestClock

        clock = load(ctx, TestClock, clock_id, param="test_clock")
        customer.test_clock = clock.id
        customer.created = clock.frozen_time
    payment_method = params.string("payment_method")
    _apply_common(ctx, customer, params)
    params.finish()
    # payment_method.py imports this module, so its functions are imported here.
    from simulator.sandbox.resources.payment_method import (
        attach,
        check_attachable,
        resolve_payment_method,
    )

    pm = None
    if payment_method is not None:
        # A declining card fails before anything is written (card errors commit).
        pm, _ = resolve_payment_method(ctx, payment_method, "payment_method")
        check_attachable(pm)
    save(ctx, customer)
    ctx.emit("customer.created", customer)
    if pm is not None:
        attach(ctx, pm, customer.id)
    return customer


def update_customer(ctx: Ctx, customer_id: str, params: Params) -> Customer:
    customer = load(ctx, Customer, customer_id)
    before = customer.serialize(ctx)
    _apply_common(ctx, customer, params)
    params.finish()
    save(ctx, customer)
    after = customer.serialize(ctx)
    if after != before:
        ctx.emit("customer.updated", customer, previous_attributes(before, after))
    return customer


def delete_customer(ctx: Ctx, customer_id: str) -> Customer:
    customer = load(ctx, Customer, customer_id)
    snapshot = Customer.from_state(customer.state())
    customer.deleted = True
    save(ctx, customer)
    ctx.emit("customer.deleted", snapshot)
    return customer


def retrieve_customer(ctx: Ctx, customer_id: str) -> Customer:
    """Deleted customers stay retrievable as ``{"deleted": true}``, as on Stripe."""
    customer = find(ctx, Customer, customer_id)
    if customer is None:
        raise resource_missing(Customer.NOUN, customer_id)
    return customer
