"""Products with their prices (https://docs.stripe.com/api/products): the steps of a
product's life that read or write its Prices too."""

from __future__ import annotations

from simulator.sandbox.errors import InvalidRequestError
from simulator.sandbox.resources.base import Ctx, load, previous_attributes, save
from simulator.sandbox.resources.catalog_requests import PriceData, ProductCreate, ProductUpdate
from simulator.sandbox.resources.common import UNSET
from simulator.sandbox.resources.price import Price, new_price
from simulator.sandbox.resources.product import Product, apply_product_fields, new_product


def create_product(ctx: Ctx, request: ProductCreate) -> Product:
    """``default_price_data`` creates the product's first Price in the same request and
    makes it the ``default_price`` (https://docs.stripe.com/api/products/create)."""
    product = new_product(ctx, request.id, request.name)
    product.type = request.type
    apply_product_fields(product, request.fields)
    price = _default_price(ctx, product, request.default_price_data)
    save(ctx, product)
    ctx.emit("product.created", product)
    if price is not None:
        save(ctx, price)
        ctx.emit("price.created", price)
    return product


def _default_price(ctx: Ctx, product: Product, price_data: PriceData | None) -> Price | None:
    if price_data is None:
        return None
    price = new_price(ctx, price_data, product.id)
    product.default_price = price.id
    return price


def update_product(ctx: Ctx, product_id: str, request: ProductUpdate) -> Product:
    product = load(ctx, Product, product_id)
    before = product.serialize(ctx)
    if request.name is not UNSET:
        product.name = request.name
    apply_product_fields(product, request.fields)
    if request.default_price is not UNSET:
        product.default_price = _own_price(ctx, product, request.default_price)
    after = product.serialize(ctx)
    if after != before:
        product.updated = ctx.now
        save(ctx, product)
        ctx.emit("product.updated", product, previous_attributes(before, product.serialize(ctx)))
    return product


def _own_price(ctx: Ctx, product: Product, price_id: str | None) -> str | None:
    """A product's ``default_price`` must be one of its own prices."""
    if price_id is None:
        return None
    price = load(ctx, Price, price_id, param="default_price")
    if price.product != product.id:
        raise InvalidRequestError(
            f"The price `{price.id}` does not belong to the product `{product.id}`.",
            param="default_price",
        )
    return price.id


def delete_product(ctx: Ctx, product_id: str) -> Product:
    """Stripe deletes only products without prices; others must be archived instead."""
    product = load(ctx, Product, product_id)
    if has_prices(ctx, product.id):
        raise InvalidRequestError(
            "This product cannot be deleted because it has one or more user-created prices."
        )
    snapshot = Product.from_state(product.state())
    product.deleted = True
    save(ctx, product)
    ctx.emit("product.deleted", snapshot)
    return product


def has_prices(ctx: Ctx, product_id: str) -> bool:
    return bool(ctx.store.page(Price.OBJECT, limit=1, filters={"product": product_id}).rows)
