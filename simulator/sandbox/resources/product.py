"""Products (https://docs.stripe.com/api/products): what a business sells; its Prices say
how much. A product that has prices cannot be deleted, only archived (``active=false``).

Products created inline by a Checkout line item's ``price_data[product_data]`` are marked
``inline``: they can be retrieved by id but are left out of ``GET /v1/products``, as the
Dashboard's catalogue leaves them out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from simulator.sandbox.errors import InvalidRequestError
from simulator.sandbox.params import Params, apply_metadata
from simulator.sandbox.resources.base import (
    Ctx,
    StripeObject,
    find,
    list_filters,
    load,
    save,
)

ProductType = Literal["good", "service"]
PRODUCT_TYPES = ("good", "service")
MAX_IMAGES = 8
MAX_MARKETING_FEATURES = 15
STATEMENT_DESCRIPTOR_MAX = 22
UNIT_LABEL_MAX = 12
PACKAGE_DIMENSIONS = ("height", "length", "weight", "width")

@dataclass(kw_only=True)
class Product(StripeObject):
    OBJECT = "product"
    PREFIX = "prod"
    NOUN = "product"
    FILTERS = ("inline", "active", "shippable", "type", "url")
    EXPANDABLE = frozenset({"default_price"})

    name: str
    active: bool = True
    default_price: str | None = None
    description: str | None = None
    images: list[str] = field(default_factory=list)
    marketing_features: list[dict[str, Any]] = field(default_factory=list)
    metadata: dict[str, str] = field(default_factory=dict)
    package_dimensions: dict[str, float] | None = None
    shippable: bool | None = None
    statement_descriptor: str | None = None
    tax_code: str | None = None
    type: ProductType = "service"
    unit_label: str | None = None
    updated: int = 0
    url: str | None = None
    inline: bool = False
    deleted: bool = False

    def is_deleted(self) -> bool:
        return self.deleted

    def serialize(self, ctx: Ctx) -> dict[str, Any]:
        if self.deleted:
            return {"id": self.id, "object": "product", "deleted": True}
        return {
            "id": self.id,
            "object": "product",
            "active": self.active,
            "created": self.created,
            "default_price": self.default_price,
            "description": self.description,
            "images": list(self.images),
            "livemode": False,
            "marketing_features": [dict(feature) for feature in self.marketing_features],
            "metadata": dict(self.metadata),
            "name": self.name,
            "package_dimensions": self.package_dimensions,
            "shippable": self.shippable,
            "statement_descriptor": self.statement_descriptor,
            "tax_code": self.tax_code,
            "tax_details": None,
            "type": self.type,
            "unit_label": self.unit_label,
            "updated": self.updated,
            "url": self.url,
        }


# -- reading parameters -----------------------------------------------------------------
def read_decimal(params: Params, key: str, *, required: bool = False) -> float | None:
    """A decimal number such as ``package_dimensions[weight]=12.5``."""
    value = params.string(key, required=required)
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        raise InvalidRequestError(f"Invalid decimal: {value}", param=params.name(key)) from None


def _read_images(params: Params) -> list[str]:
    images = params.strings("images") or []
    if len(images) > MAX_IMAGES:
        raise InvalidRequestError(
            f"Invalid array: images must have at most {MAX_IMAGES} elements", param="images"
        )
    return images


def _read_marketing_features(params: Params) -> list[dict[str, Any]]:
    features = params.hashes("marketing_features")
    if len(features) > MAX_MARKETING_FEATURES:
        raise InvalidRequestError(
            f"Invalid array: marketing_features must have at most {MAX_MARKETING_FEATURES}"
            " elements",
            param="marketing_features",
        )
    return [{"name": feature.required_string("name", max_length=80)} for feature in features]


def _read_package_dimensions(params: Params) -> dict[str, float] | None:
    dimensions = params.hash("package_dimensions")
    if dimensions is None or dimensions.is_empty():
        return None
    return {name: read_decimal(dimensions, name, required=True) or 0.0
            for name in PACKAGE_DIMENSIONS}


def apply_product_fields(product: Product, params: Params) -> None:
    """The fields create and update share; ``""`` clears the optional ones."""
    for name, limit in (("description", 40000), ("statement_descriptor", STATEMENT_DESCRIPTOR_MAX),
                        ("unit_label", UNIT_LABEL_MAX), ("url", 5000), ("tax_code", 5000)):
        if name in params:
            setattr(product, name, params.string(name, max_length=limit))
    if "images" in params:
        product.images = _read_images(params)
    if "marketing_features" in params:
        product.marketing_features = _read_marketing_features(params)
    if "package_dimensions" in params:
        product.package_dimensions = _read_package_dimensions(params)
    if (shippable := params.boolean("shippable")) is not None:
        product.shippable = shippable
    if (active := params.boolean("active")) is not None:
        product.active = active
    product.metadata = apply_metadata(product.metadata, params.metadata())


# -- operations (those that touch prices too are in flows/catalog.py) ------------------
def new_product_id(ctx: Ctx, requested: str | None) -> str:
    """Products may be given their own id; Stripe refuses one that is taken."""
    if requested is None:
        return ctx.ids.new("prod", 14)
    if ctx.store.get(requested) is not None:
        raise InvalidRequestError(
            "Product already exists.", code="resource_already_exists", param="id"
        )
    return requested


def create_price_product(ctx: Ctx, params: Params) -> Product:
    """``POST /v1/prices`` with ``product_data``: a catalogue product, from the few fields
    that hash takes (https://docs.stripe.com/api/prices/create)."""
    product = Product(
        id=new_product_id(ctx, params.string("id")),
        created=ctx.now,
        updated=ctx.now,
        name=params.required_string("name"),
        statement_descriptor=params.string("statement_descriptor",
                                           max_length=STATEMENT_DESCRIPTOR_MAX),
        tax_code=params.string("tax_code"),
        unit_label=params.string("unit_label", max_length=UNIT_LABEL_MAX),
        metadata=apply_metadata({}, params.metadata()),
    )
    if (active := params.boolean("active")) is not None:
        product.active = active
    save(ctx, product)
    ctx.emit("product.created", product)
    return product


def create_inline_product(ctx: Ctx, params: Params) -> Product:
    """The product behind a Checkout line item's ``price_data[product_data]``."""
    product = Product(
        id=ctx.ids.new("prod", 14),
        created=ctx.now,
        updated=ctx.now,
        name=params.required_string("name"),
        description=params.string("description"),
        images=_read_images(params),
        metadata=apply_metadata({}, params.metadata()),
        tax_code=params.string("tax_code"),
        unit_label=params.string("unit_label", max_length=UNIT_LABEL_MAX),
        active=False,
        inline=True,
    )
    save(ctx, product)
    return product


def retrieve_product(ctx: Ctx, product_id: str) -> Product:
    """Deleted products are gone: retrieving one is ``resource_missing``."""
    return load(ctx, Product, product_id)


def product_filters(*, active: bool | None = None, shippable: bool | None = None,
                    type_: str | None = None, url: str | None = None) -> dict[str, str]:
    """``GET /v1/products``'s filters; inline products never match."""
    return list_filters(url=url, inline=False, active=active, shippable=shippable, type=type_)


def products_by_id(ctx: Ctx, ids: list[str]) -> list[Product]:
    """``GET /v1/products?ids[]=…``: the listed products that exist, newest first."""
    found = [find(ctx, Product, product_id) for product_id in dict.fromkeys(ids)]
    products = [p for p in found if p is not None and not p.deleted and not p.inline]
    return sorted(products, key=lambda p: ctx.store.position(p.id, p.OBJECT) or (0, 0),
                  reverse=True)
