"""Prices (https://docs.stripe.com/api/prices): how much and how often a Product costs.

A price's amount, currency and recurrence never change after creation; only ``active``,
``nickname``, ``lookup_key``, ``tax_behavior`` (while ``unspecified``) and ``metadata``
can be updated. Lookup keys are unique across the account's prices; passing
``transfer_lookup_key=true`` moves the key from the price that holds it.

Prices created inline by Checkout's ``line_items[][price_data]`` are archived
(``active=false``) from the start and left out of ``GET /v1/prices``, which "returns a
list of your active prices, excluding inline prices" (https://docs.stripe.com/api/prices/list).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Literal

from simulator.sandbox.errors import InvalidRequestError
from simulator.sandbox.params import apply_metadata
from simulator.sandbox.resources.base import (
    Ctx,
    StripeObject,
    list_filters,
    load,
    previous_attributes,
    save,
)
from simulator.sandbox.resources.catalog_requests import (
    LineItemPriceData,
    PriceCreate,
    PriceData,
    PriceUpdate,
)
from simulator.sandbox.resources.common import UNSET
from simulator.sandbox.resources.product import (
    Product,
    ProductData,
    create_inline_product,
    create_price_product,
)

PriceType = Literal["one_time", "recurring"]
PRICE_TYPES = ("one_time", "recurring")


@dataclass(kw_only=True)
class Price(StripeObject):
    OBJECT = "price"
    PREFIX = "price"
    NOUN = "price"
    FILTERS = ("product", "inline", "active", "currency", "type", "lookup_key")
    EXPANDABLE = frozenset({"product"})

    currency: str
    product: str
    unit_amount_decimal: str
    active: bool = True
    lookup_key: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    nickname: str | None = None
    recurring: dict[str, Any] | None = None
    tax_behavior: str = "unspecified"
    inline: bool = False

    @property
    def type(self) -> PriceType:
        return "recurring" if self.recurring else "one_time"

    @property
    def unit_amount(self) -> int | None:
        """``null`` when the decimal amount has a fractional part."""
        amount = Decimal(self.unit_amount_decimal)
        return int(amount) if amount == amount.to_integral_value() else None

    def amount_for(self, quantity: int) -> int:
        """What ``quantity`` units cost, in the currency's minor unit."""
        total = Decimal(self.unit_amount_decimal) * quantity
        return int(total.quantize(Decimal(1), rounding=ROUND_HALF_UP))

    def index(self) -> dict[str, str | None]:
        # ``lookup_keys[]=`` (empty) lists the prices without a lookup key.
        return {**super().index(), "lookup_key": self.lookup_key or ""}

    def serialize(self, ctx: Ctx) -> dict[str, Any]:
        return {
            "id": self.id,
            "object": "price",
            "active": self.active,
            "billing_scheme": "per_unit",
            "created": self.created,
            "currency": self.currency,
            "custom_unit_amount": None,
            "livemode": False,
            "lookup_key": self.lookup_key,
            "metadata": dict(self.metadata),
            "nickname": self.nickname,
            "product": self.product,
            "recurring": dict(self.recurring) if self.recurring else None,
            "tax_behavior": self.tax_behavior,
            "tiers_mode": None,
            "transform_quantity": None,
            "type": self.type,
            "unit_amount": self.unit_amount,
            "unit_amount_decimal": self.unit_amount_decimal,
        }


def price_filters(*, product: str | None = None, active: bool | None = None,
                  currency: str | None = None, type_: str | None = None,
                  inline: bool | None = False) -> dict[str, str]:
    """Filters on prices; by default inline prices never match."""
    return list_filters(product=product, inline=inline, active=active, currency=currency,
                        type=type_)


# -- operations -------------------------------------------------------------------------
def new_price(ctx: Ctx, data: PriceData, product_id: str, *, inline: bool = False) -> Price:
    """The fields every way of making a price shares: currency, amount, recurrence, tax
    behaviour and metadata."""
    return Price(
        id=ctx.ids.new("price", 24),
        created=ctx.now,
        currency=data.currency,
        product=product_id,
        unit_amount_decimal=data.unit_amount_decimal,
        recurring=data.recurring.as_dict() if data.recurring is not None else None,
        tax_behavior=data.tax_behavior,
        metadata=apply_metadata({}, data.metadata),
        active=not inline,
        inline=inline,
    )


def create_price(ctx: Ctx, request: PriceCreate) -> Price:
    if isinstance(request.product, ProductData):
        product = create_price_product(ctx, request.product)
    else:
        product = load(ctx, Product, request.product, param="product")
    price = new_price(ctx, request.data, product.id)
    if request.active is not None:
        price.active = request.active
    price.nickname = request.nickname
    _claim_lookup_key(ctx, price, request.lookup_key, request.transfer_lookup_key)
    save(ctx, price)
    ctx.emit("price.created", price)
    return price


def create_inline_price(ctx: Ctx, price_data: LineItemPriceData, param: str
                        ) -> tuple[Price, Product]:
    """A Checkout line item's ``price_data`` (``param`` names it): an archived price (and,
    for ``product_data``, an inline product) that only this line item uses. No events."""
    if isinstance(price_data.product, ProductData):
        product = create_inline_product(ctx, price_data.product)
    else:
        product = load(ctx, Product, price_data.product, param=f"{param}[product]")
    price = new_price(ctx, price_data.data, product.id, inline=True)
    save(ctx, price)
    return price, product


def retrieve_price(ctx: Ctx, price_id: str) -> Price:
    return load(ctx, Price, price_id)


def update_price(ctx: Ctx, price_id: str, request: PriceUpdate) -> Price:
    price = load(ctx, Price, price_id)
    before = price.serialize(ctx)
    if request.active is not None:
        price.active = request.active
    if request.nickname is not UNSET:
        price.nickname = request.nickname
    if request.tax_behavior is not None:
        _change_tax_behavior(price, request.tax_behavior)
    price.metadata = apply_metadata(price.metadata, request.metadata)
    if request.lookup_key is not UNSET:
        _claim_lookup_key(ctx, price, request.lookup_key, request.transfer_lookup_key)
    after = price.serialize(ctx)
    save(ctx, price)
    if after != before:
        ctx.emit("price.updated", price, previous_attributes(before, after))
    return price


def _change_tax_behavior(price: Price, tax_behavior: str) -> None:
    """"Once specified as either `inclusive` or `exclusive`, it cannot be changed.\""""
    if price.tax_behavior not in ("unspecified", tax_behavior):
        raise InvalidRequestError(
            f"The `tax_behavior` of a price cannot be changed once it is"
            f" `{price.tax_behavior}`.",
            param="tax_behavior",
        )
    price.tax_behavior = tax_behavior


def _claim_lookup_key(ctx: Ctx, price: Price, lookup_key: str | None, transfer: bool) -> None:
    """Give ``price`` the lookup key, taking it from its holder when ``transfer``."""
    holder = price_with_lookup_key(ctx, lookup_key) if lookup_key else None
    if holder is not None and holder.id != price.id:
        if not transfer:
            raise InvalidRequestError(
                f"A price (`{holder.id}`) already uses that lookup key.", param="lookup_key"
            )
        before = holder.serialize(ctx)
        holder.lookup_key = None
        save(ctx, holder)
        ctx.emit("price.updated", holder, previous_attributes(before, holder.serialize(ctx)))
    price.lookup_key = lookup_key


def price_with_lookup_key(ctx: Ctx, lookup_key: str) -> Price | None:
    page = ctx.store.page(Price.OBJECT, limit=1, filters={"lookup_key": lookup_key})
    return Price.from_state(page.rows[0].data) if page.rows else None


def line_item_price(ctx: Ctx, price_id: str, param: str) -> Price:
    """A price a Checkout line item refers to by id: it must exist and be active."""
    price = load(ctx, Price, price_id, param=param)
    if not price.active:
        raise InvalidRequestError(
            "The price specified is inactive. This field only accepts active prices.",
            param=param,
        )
    return price
