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
    INCLUDABLE = frozenset({"sources"})

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
    default_source: str | None = None
    preferred_locales: list[str] = field(default_factory=list)
    tax_exempt: str = "none"
    test_clock: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    deleted: bool = False

    def index(self) -> dict[str, str | None]:
        return {"subtype": self.email}

    def is_deleted(self) -> bool:
        return self.deleted

    def include(self, ctx: Ctx, name: str) -> Any:
        """``sources``: the customer's cards, shown only when expanded (since 2020-08-27)."""
        from simulator.sandbox.resources.card import Card

        url = f"/v1/customers/{self.id}/sources"
        page = ctx.store.page(Card.OBJECT, limit=10, filters={"customer": self.id})
        data = [Card.from_state(row.data).serialize(ctx) for row in page.rows]
        return {"object": "list", "data": data, "has_more": page.has_more, "url": url}

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
            "default_source": self.default_source,
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


def _apply_common(ctx: Ctx, customer: Customer, params: Params,
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
    source = params.string("source")
    # payment_method.py imports this module, so its functions are imported here.
    from simulator.sandbox.resources import customer_source
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
    _apply_common(ctx, customer, params,
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
    _apply_common(ctx, customer, params)
    source = params.string("source")
    changes_default = "default_source" in params
    default_source = params.string("default_source")
    params.finish()
    from simulator.sandbox.resources import customer_source

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
