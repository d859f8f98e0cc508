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
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, Literal

from simulator.sandbox.errors import InvalidRequestError, parameter_missing
from simulator.sandbox.params import Params, apply_metadata
from simulator.sandbox.resources.base import (
    Ctx,
    StripeObject,
    list_filters,
    load,
    previous_attributes,
    save,
)
from simulator.sandbox.resources.product import (
    Product,
    create_inline_product,
    create_price_product,
)

PriceType = Literal["one_time", "recurring"]
PRICE_TYPES = ("one_time", "recurring")
TAX_BEHAVIORS = ("exclusive", "inclusive", "unspecified")
INTERVALS = ("day", "week", "month", "year")
# "Maximum of three years interval allowed (3 years, 36 months, or 156 weeks)."
MAX_INTERVAL_COUNT = {"day": 1095, "week": 156, "month": 36, "year": 3}
LOOKUP_KEY_MAX = 200
MAX_DECIMAL_PLACES = 12


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


# -- reading parameters -----------------------------------------------------------------
def _read_unit_amount(params: Params) -> str:
    """``unit_amount`` (an integer) or ``unit_amount_decimal`` (at most 12 decimal
    places), as the decimal string Stripe returns in ``unit_amount_decimal``."""
    if "unit_amount" in params and "unit_amount_decimal" in params:
        raise InvalidRequestError(
            "You may only specify one of these parameters: unit_amount, unit_amount_decimal.",
            param="unit_amount",
        )
    amount = params.integer("unit_amount", minimum=0)
    if amount is not None:
        return str(amount)
    raw = params.string("unit_amount_decimal")
    if raw is None:
        raise parameter_missing(params.name("unit_amount"))
    return _decimal_amount(raw, params.name("unit_amount_decimal"))


def _decimal_amount(raw: str, param: str) -> str:
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise InvalidRequestError(f"Invalid decimal: {raw}", param=param) from None
    exponent = value.as_tuple().exponent
    if not value.is_finite() or value < 0 or (
        isinstance(exponent, int) and -exponent > MAX_DECIMAL_PLACES
    ):
        raise InvalidRequestError(f"Invalid decimal: {raw}", param=param)
    return format(value.normalize(), "f") if value != 0 else "0"


def _read_recurring(params: Params) -> dict[str, Any] | None:
    recurring = params.hash("recurring")
    if recurring is None:
        return None
    interval = recurring.enum("interval", INTERVALS, required=True)
    assert interval is not None
    count = recurring.integer("interval_count", minimum=1) or 1
    if count > MAX_INTERVAL_COUNT[interval]:
        raise InvalidRequestError(
            "The maximum billing interval is 3 years (3 years, 36 months, 156 weeks or"
            " 1095 days).",
            param=recurring.name("interval_count"),
        )
    return {
        "interval": interval,
        "interval_count": count,
        "meter": None,
        "trial_period_days": None,
        "usage_type": "licensed",
    }


def new_price(ctx: Ctx, params: Params, product_id: str, *, inline: bool = False) -> Price:
    """The fields every way of making a price shares: currency, amount, recurrence, tax
    behaviour and metadata."""
    currency = params.currency(required=True)
    assert currency is not None
    return Price(
        id=ctx.ids.new("price", 24),
        created=ctx.now,
        currency=currency,
        product=product_id,
        unit_amount_decimal=_read_unit_amount(params),
        recurring=_read_recurring(params),
        tax_behavior=params.enum("tax_behavior", TAX_BEHAVIORS) or "unspecified",
        metadata=apply_metadata({}, params.metadata()),
        active=not inline,
        inline=inline,
    )


def _product_for(ctx: Ctx, params: Params, *, inline: bool) -> Product:
    """``product`` (an existing id) or ``product_data`` (a new product), not both."""
    if "product" in params and "product_data" in params:
        raise InvalidRequestError(
            "You may only specify one of these parameters: product, product_data.",
            param=params.name("product"),
        )
    product_data = params.hash("product_data")
    if product_data is not None:
        if inline:
            return create_inline_product(ctx, product_data)
        return create_price_product(ctx, product_data)
    product_id = params.string("product")
    if product_id is None:
        raise parameter_missing(params.name("product"))
    return load(ctx, Product, product_id, param=params.name("product"))


# -- operations -------------------------------------------------------------------------
def create_price(ctx: Ctx, params: Params) -> Price:
    product = _product_for(ctx, params, inline=False)
    price = new_price(ctx, params, product.id)
    if (active := params.boolean("active")) is not None:
        price.active = active
    price.nickname = params.string("nickname")
    transfer = bool(params.boolean("transfer_lookup_key"))
    lookup_key = params.string("lookup_key", max_length=LOOKUP_KEY_MAX)
    params.finish()
    _claim_lookup_key(ctx, price, lookup_key, transfer)
    save(ctx, price)
    ctx.emit("price.created", price)
    return price


def create_inline_price(ctx: Ctx, params: Params) -> tuple[Price, Product]:
    """A Checkout line item's ``price_data``: an archived price (and, for
    ``product_data``, an inline product) that only this line item uses. No events."""
    product = _product_for(ctx, params, inline=True)
    price = new_price(ctx, params, product.id, inline=True)
    save(ctx, price)
    return price, product


def retrieve_price(ctx: Ctx, price_id: str) -> Price:
    return load(ctx, Price, price_id)


def update_price(ctx: Ctx, price_id: str, params: Params) -> Price:
    price = load(ctx, Price, price_id)
    before = price.serialize(ctx)
    if (active := params.boolean("active")) is not None:
        price.active = active
    if "nickname" in params:
        price.nickname = params.string("nickname")
    if (tax_behavior := params.enum("tax_behavior", TAX_BEHAVIORS)) is not None:
        _change_tax_behavior(price, tax_behavior)
    price.metadata = apply_metadata(price.metadata, params.metadata())
    transfer = bool(params.boolean("transfer_lookup_key"))
    if "lookup_key" in params:
        _claim_lookup_key(
            ctx, price, params.string("lookup_key", max_length=LOOKUP_KEY_MAX), transfer
        )
    params.finish()
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
