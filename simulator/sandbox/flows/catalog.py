"""Products with their prices (https://docs.stripe.com/api/products): the steps of a
product's life that read or write its Prices too."""

from __future__ import annotations

from simulator.sandbox.errors import InvalidRequestError
from simulator.sandbox.params import Params
from simulator.sandbox.resources.base import Ctx, load, previous_attributes, save
from simulator.sandbox.resources.price import Price, new_price
from simulator.sandbox.resources.product import (
    PRODUCT_TYPES,
    Product,
    apply_product_fields,
    new_product_id,
)


def create_product(ctx: Ctx, params: Params) -> Product:
    """``default_price_data`` creates the product's first Price in the same request and
    makes it the ``default_price`` (https://docs.stripe.com/api/products/create)."""
    product = Product(
        id=new_product_id(ctx, params.string("id")),
        created=ctx.now,
        updated=ctx.now,
        name=params.required_string("name"),
        type="good" if params.enum("type", PRODUCT_TYPES) == "good" else "service",
    )
    apply_product_fields(product, params)
    price = _default_price(ctx, product, params.hash("default_price_data"))
    params.finish()
    save(ctx, product)
    ctx.emit("product.created", product)
    if price is not None:
        save(ctx, price)
        ctx.emit("price.created", price)
    return product


def _default_price(ctx: Ctx, product: Product, price_data: Params | None) -> Price | None:
    if price_data is None:
        return None
    price = new_price(ctx, price_data, product.id)
    product.default_price = price.id
    return price


def update_product(ctx: Ctx, product_id: str, params: Params) -> Product:
    product = load(ctx, Product, product_id)
    before = product.serialize(ctx)
    if "name" in params:
        product.name = params.required_string("name")
    apply_product_fields(product, params)
    if "default_price" in params:
        product.default_price = _own_price(ctx, product, params.string("default_price"))
    params.finish()
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
