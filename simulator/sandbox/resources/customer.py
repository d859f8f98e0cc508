"""Customers (https://docs.stripe.com/api/customers)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from simulator.sandbox.errors import resource_missing
from simulator.sandbox.params import Params
from simulator.sandbox.resources.base import (
    Ctx,
    StripeObject,
    find,
    load,
    save,
)
from simulator.sandbox.resources.card import Card

TAX_EXEMPT = ("none", "exempt", "reverse")
RECONCILIATION_MODES = ("automatic", "manual", "merchant_default")


@dataclass(kw_only=True)
class Customer(StripeObject):
    OBJECT = "customer"
    PREFIX = "cus"
    NOUN = "customer"
    FILTERS = ("email",)
    EXPANDABLE = frozenset({"default_source", "test_clock", "invoice_settings"})
    INCLUDABLE = frozenset({"cash_balance", "sources"})

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
    # The cash balance (https://docs.stripe.com/api/cash_balance): funds by currency, and
    # the reconciliation mode set for this customer (None: the account's, automatic).
    cash_available: dict[str, int] = field(default_factory=dict)
    cash_reconciliation: str | None = None

    def is_deleted(self) -> bool:
        return self.deleted

    @property
    def reconciles_automatically(self) -> bool:
        return self.cash_reconciliation != "manual"

    def cash_balance(self) -> dict[str, Any]:
        """The ``cash_balance`` object: ``available`` is null until a currency is funded,
        then lists it even at zero."""
        return {
            "object": "cash_balance",
            "available": dict(self.cash_available) or None,
            "customer": self.id,
            "customer_account": None,
            "livemode": False,
            "settings": {
                "reconciliation_mode": self.cash_reconciliation or "automatic",
                "using_merchant_default": self.cash_reconciliation is None,
            },
        }

    def include(self, ctx: Ctx, name: str) -> Any:
        """``sources``: the customer's cards, shown only when expanded (since 2020-08-27);
        ``cash_balance`` likewise."""
        if name == "cash_balance":
            return self.cash_balance()
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


def read_reconciliation_mode(cash_balance: Params | None) -> str | None:
    """``cash_balance[settings][reconciliation_mode]`` (``merchant_default`` follows the
    account's mode again)."""
    settings = cash_balance.hash("settings") if cash_balance is not None else None
    return settings.enum("reconciliation_mode", RECONCILIATION_MODES) if settings else None


def set_cash_reconciliation(customer: Customer, mode: str | None) -> None:
    if mode is not None:
        customer.cash_reconciliation = None if mode == "merchant_default" else mode


# -- operations on the customer alone (creating and updating, which attach payment
# methods, sources and test clocks, are in flows/customers.py) -------------------------
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
