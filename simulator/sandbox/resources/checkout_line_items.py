"""A Checkout Session's line items (https://docs.stripe.com/api/checkout/sessions/line_items):
what is bought, at which Price, and the share of the session's discount each one carries.
They are kept inside their session rather than stored on their own."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from simulator.sandbox.errors import InvalidRequestError
from simulator.sandbox.params import Params, apply_metadata
from simulator.sandbox.resources.base import Ctx, StripeObject, load
from simulator.sandbox.resources.catalog_requests import LineItemPriceData
from simulator.sandbox.resources.checkout_options import AdjustableQuantity
from simulator.sandbox.resources.price import Price, create_inline_price, line_item_price
from simulator.sandbox.resources.product import Product


@dataclass(kw_only=True)
class LineItem(StripeObject):
    """One purchased item (object ``item``); ``price`` is always rendered as the full
    Price."""

    OBJECT = "item"
    PREFIX = "li"
    NOUN = "line item"
    EXPANDABLE = frozenset({"price"})

    price: str
    quantity: int
    currency: str
    description: str
    amount_subtotal: int
    amount_discount: int = 0
    adjustable_quantity: dict[str, Any] | None = None
    metadata: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of_rendered(cls, ctx: Ctx, data: dict[str, Any]) -> LineItem:
        """Line items are not stored on their own: expanding inside one (``expand[]=
        line_items.data.price.product``) rebuilds it from its rendered hash."""
        return cls(
            id=data["id"],
            created=0,
            price=data["price"]["id"],
            quantity=data["quantity"],
            currency=data["currency"],
            description=data["description"],
            amount_subtotal=data["amount_subtotal"],
            amount_discount=data["amount_discount"],
            adjustable_quantity=data["adjustable_quantity"],
            metadata=data["metadata"],
        )

    def product(self, ctx: Ctx) -> str:
        return load(ctx, Price, self.price).product

    def serialize(self, ctx: Ctx) -> dict[str, Any]:
        return {
            "id": self.id,
            "object": "item",
            "adjustable_quantity": self.adjustable_quantity,
            "amount_discount": self.amount_discount,
            "amount_subtotal": self.amount_subtotal,
            "amount_tax": 0,
            "amount_total": self.amount_subtotal - self.amount_discount,
            "currency": self.currency,
            "description": self.description,
            "metadata": dict(self.metadata),
            "price": load(ctx, Price, self.price).serialize(ctx),
            "quantity": self.quantity,
        }


def line_items_url(session_id: str) -> str:
    return f"/v1/checkout/sessions/{session_id}/line_items"


def spread_discount(items: list[LineItem], discount: int) -> None:
    """Share ``discount`` among ``items`` in proportion to their subtotals; what rounding
    leaves over goes to the last item."""
    base = sum(item.amount_subtotal for item in items)
    left = discount
    for position, item in enumerate(items):
        share = left if position == len(items) - 1 else \
            discount * item.amount_subtotal // base if base else 0
        item.amount_discount += share
        left -= share


# -- the request ------------------------------------------------------------------------
@dataclass(frozen=True)
class CheckoutLineItem:
    """One ``line_items[]`` entry: ``price``, an active Price's id or the inline price of
    ``price_data``."""

    price: str | LineItemPriceData
    quantity: int
    adjustable_quantity: AdjustableQuantity | None = None
    metadata: dict[str, str] | None = None

    @classmethod
    def from_params(cls, params: Params, name: str) -> CheckoutLineItem:
        """``name`` is the entry's own, such as ``line_items[0]``."""
        if "price" in params and "price_data" in params:
            raise InvalidRequestError(
                "You may only specify one of these parameters: price, price_data.",
                param=params.name("price"),
            )
        price_data = params.hash("price_data")
        price: str | LineItemPriceData | None = params.string("price") if price_data is None \
            else LineItemPriceData.from_params(price_data)
        if price is None:
            raise InvalidRequestError(
                "You must provide either price or price_data for each line item when using"
                " prices.",
                param=params.name("price"),
            )
        quantity = params.integer("quantity", minimum=1)
        if quantity is None:
            raise InvalidRequestError(
                f"Quantity is required. Add `quantity` to `{name}`",
                code="parameter_missing",
                param=params.name("quantity"),
            )
        adjustable = params.hash("adjustable_quantity")
        return cls(price, quantity,
                   AdjustableQuantity.from_params(adjustable) if adjustable is not None else None,
                   params.metadata())


def read_line_items(params: Params) -> tuple[CheckoutLineItem, ...]:
    """``line_items``, which ``payment`` mode requires."""
    entries = params.hashes("line_items")
    if not entries:
        raise InvalidRequestError(
            "The `line_items` parameter is required in payment mode.", param="line_items"
        )
    return tuple(CheckoutLineItem.from_params(entry, f"line_items[{index}]")
                 for index, entry in enumerate(entries))


# -- making the line items ----------------------------------------------------------------
def build_line_items(
    ctx: Ctx, requested: Sequence[CheckoutLineItem], requested_currency: str | None
) -> tuple[list[LineItem], str]:
    """Every line item must be in the session's one currency (``currency`` if given,
    else the first item's)."""
    items: list[LineItem] = []
    currency = requested_currency
    for index, entry in enumerate(requested):
        name = f"line_items[{index}]"
        field_name = f"{name}[price_data][currency]" \
            if isinstance(entry.price, LineItemPriceData) else f"{name}[price]"
        item = _line_item(ctx, entry, name)
        currency = currency or item.currency
        if item.currency != currency:
            raise InvalidRequestError(
                f"The price specified supports currencies of `{item.currency}` which doesn't"
                f" include the expected currency of `{currency}`.",
                param=field_name,
            )
        items.append(item)
    assert currency is not None
    return items, currency


def _line_item(ctx: Ctx, entry: CheckoutLineItem, name: str) -> LineItem:
    price, product_name = _line_item_price(ctx, entry, name)
    if price.recurring:
        raise InvalidRequestError(
            "You specified `payment` mode but passed a recurring price. Either switch to"
            " `subscription` mode or use only one-time prices.",
            param="mode",
        )
    adjustable = entry.adjustable_quantity
    return LineItem(
        id=ctx.ids.new("li", 24),
        created=ctx.now,
        price=price.id,
        quantity=entry.quantity,
        currency=price.currency,
        description=product_name,
        amount_subtotal=price.amount_for(entry.quantity),
        adjustable_quantity=adjustable.stored() if adjustable is not None else None,
        metadata=apply_metadata({}, entry.metadata),
    )


def _line_item_price(ctx: Ctx, entry: CheckoutLineItem, name: str) -> tuple[Price, str]:
    """``price`` (an active Price's id) or ``price_data`` (an inline price)."""
    if isinstance(entry.price, LineItemPriceData):
        price, product = create_inline_price(ctx, entry.price, f"{name}[price_data]")
        return price, product.name
    price = line_item_price(ctx, entry.price, f"{name}[price]")
    return price, load(ctx, Product, price.product).name
