"""/v1/products and /v1/prices"""

from __future__ import annotations

import operator

from flask import Blueprint

from simulator.sandbox.api.endpoint import ListResult, stripe_endpoint
from simulator.sandbox.api.listing import list_objects, read_created
from simulator.sandbox.errors import InvalidRequestError, resource_missing
from simulator.sandbox.flows import catalog
from simulator.sandbox.params import Params
from simulator.sandbox.resources import price as prices
from simulator.sandbox.resources import product as products
from simulator.sandbox.resources.base import Ctx, StripeObject
from simulator.sandbox.resources.catalog_requests import (
    PriceCreate,
    PriceUpdate,
    ProductCreate,
    ProductUpdate,
)
from simulator.sandbox.store import glob_literal

bp = Blueprint("catalog", __name__)
MAX_LOOKUP_KEYS = 10
_COMPARE = {"gt": operator.gt, "gte": operator.ge, "lt": operator.lt, "lte": operator.le}


# -- products ---------------------------------------------------------------------------
@bp.post("/v1/products")
@stripe_endpoint
def create_product(ctx: Ctx, params: Params) -> products.Product:
    return catalog.create_product(ctx, ProductCreate.from_params(params))


@bp.get("/v1/products/<product_id>")
@stripe_endpoint
def retrieve_product(ctx: Ctx, params: Params, product_id: str) -> products.Product:
    return products.retrieve_product(ctx, product_id)


@bp.post("/v1/products/<product_id>")
@stripe_endpoint
def update_product(ctx: Ctx, params: Params, product_id: str) -> products.Product:
    return catalog.update_product(ctx, product_id, ProductUpdate.from_params(params))


@bp.delete("/v1/products/<product_id>")
@stripe_endpoint
def delete_product(ctx: Ctx, params: Params, product_id: str) -> products.Product:
    return catalog.delete_product(ctx, product_id)


@bp.get("/v1/products")
@stripe_endpoint
def list_products(ctx: Ctx, params: Params) -> ListResult:
    filters = products.product_filters(
        active=params.boolean("active"),
        shippable=params.boolean("shippable"),
        type_=params.enum("type", products.PRODUCT_TYPES),
        url=params.string("url"),
    )
    ids = params.strings("ids")
    if ids is not None:
        return _page_of_ids(params, products.products_by_id(ctx, ids), filters)
    return list_objects(ctx, params, products.Product, "/v1/products", filters)


def _page_of_ids(params: Params, found: list[products.Product], filters: dict[str, str]
                 ) -> ListResult:
    """``ids[]`` names the products outright: filter and page them in memory."""
    bounds = read_created(params)
    matching: list[StripeObject] = [
        p for p in found
        if filters.items() <= p.index().items()
        and all(_COMPARE[op](p.created, bound) for op, bound in bounds.items())
    ]
    return page_by_id(params, "/v1/products", matching, products.Product.NOUN)


def page_by_id(params: Params, url: str, items: list[StripeObject], noun: str) -> ListResult:
    """A page of a list already in memory (and in order), with Stripe's ``limit``,
    ``starting_after`` and ``ending_before``."""
    limit = params.integer("limit", minimum=1, maximum=100) or 10
    after = params.string("starting_after")
    before = params.string("ending_before")
    if after is not None and before is not None:
        raise InvalidRequestError(
            "Received both starting_after and ending_before parameters. Please pass in only one."
        )
    ids = [item.id for item in items]
    if before is not None:
        end = _position(ids, before, noun, "ending_before")
        return ListResult(url, items[max(0, end - limit):end], end - limit > 0)
    start = _position(ids, after, noun, "starting_after") + 1 if after is not None else 0
    return ListResult(url, items[start:start + limit], start + limit < len(items))


def _position(ids: list[str], object_id: str, noun: str, param: str) -> int:
    if object_id not in ids:
        raise resource_missing(noun, object_id, param)
    return ids.index(object_id)


# -- prices -----------------------------------------------------------------------------
@bp.post("/v1/prices")
@stripe_endpoint
def create_price(ctx: Ctx, params: Params) -> prices.Price:
    return prices.create_price(ctx, PriceCreate.from_params(params))


@bp.get("/v1/prices/<price_id>")
@stripe_endpoint
def retrieve_price(ctx: Ctx, params: Params, price_id: str) -> prices.Price:
    return prices.retrieve_price(ctx, price_id)


@bp.post("/v1/prices/<price_id>")
@stripe_endpoint
def update_price(ctx: Ctx, params: Params, price_id: str) -> prices.Price:
    return prices.update_price(ctx, price_id, PriceUpdate.from_params(params))


@bp.get("/v1/prices")
@stripe_endpoint
def list_prices(ctx: Ctx, params: Params) -> ListResult:
    """Active prices unless ``active=false``; inline prices never
    (https://docs.stripe.com/api/prices/list)."""
    active = params.boolean("active")
    product = params.string("product")
    currency = params.currency("currency")
    type_ = params.enum("type", prices.PRICE_TYPES)
    lookup_keys = params.strings("lookup_keys") or []
    if len(lookup_keys) > MAX_LOOKUP_KEYS:
        raise InvalidRequestError(
            f"You may only specify up to {MAX_LOOKUP_KEYS} lookup_keys.", param="lookup_keys"
        )
    filters = prices.price_filters(product=product, active=True if active is None else active,
                                   currency=currency, type_=type_)
    patterns = [glob_literal(key) for key in lookup_keys]
    return list_objects(ctx, params, prices.Price, "/v1/prices", filters,
                        globs=("lookup_key", patterns))
