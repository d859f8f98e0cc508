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
from simulator.sandbox.resources.common import UNSET, Maybe

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


# The text fields with their length limits, in the order they are read.
TEXT_FIELDS = (("description", 40000), ("statement_descriptor", STATEMENT_DESCRIPTOR_MAX),
               ("unit_label", UNIT_LABEL_MAX), ("url", 5000), ("tax_code", 5000))


@dataclass(frozen=True)
class ProductFields:
    """What creating and updating a product share; only the fields given are set, and
    ``None`` (from ``""``) clears an optional one."""

    description: Maybe[str | None] = UNSET
    statement_descriptor: Maybe[str | None] = UNSET
    unit_label: Maybe[str | None] = UNSET
    url: Maybe[str | None] = UNSET
    tax_code: Maybe[str | None] = UNSET
    package_dimensions: Maybe[dict[str, float] | None] = UNSET
    images: list[str] | None = None
    marketing_features: list[dict[str, Any]] | None = None
    shippable: bool | None = None
    active: bool | None = None
    metadata: dict[str, str] | None = None

    @classmethod
    def from_params(cls, params: Params) -> ProductFields:
        text: dict[str, str | None] = {name: params.string(name, max_length=limit)
                                       for name, limit in TEXT_FIELDS if name in params}
        images = _read_images(params) if "images" in params else None
        features = _read_marketing_features(params) if "marketing_features" in params else None
        dimensions: Maybe[dict[str, float] | None] = UNSET
        if "package_dimensions" in params:
            dimensions = _read_package_dimensions(params)
        return cls(**text, images=images, marketing_features=features,
                   package_dimensions=dimensions, shippable=params.boolean("shippable"),
                   active=params.boolean("active"), metadata=params.metadata())


@dataclass(frozen=True)
class ProductData:
    """``product_data``: a new product, made with a Price (``POST /v1/prices``) or for a
    Checkout line item's inline price (``price_data[product_data]``); each takes only a
    few of the product's fields (https://docs.stripe.com/api/prices/create)."""

    name: str
    fields: ProductFields = field(default_factory=ProductFields)
    id: str | None = None  # ``POST /v1/prices`` only: the product's own id

    @classmethod
    def for_price(cls, params: Params) -> ProductData:
        """``POST /v1/prices``'s ``product_data``."""
        product_id = params.string("id")
        name = params.required_string("name")
        return cls(name, ProductFields(
            statement_descriptor=params.string("statement_descriptor",
                                               max_length=STATEMENT_DESCRIPTOR_MAX),
            tax_code=params.string("tax_code"),
            unit_label=params.string("unit_label", max_length=UNIT_LABEL_MAX),
            metadata=params.metadata(),
            active=params.boolean("active")), product_id)

    @classmethod
    def for_line_item(cls, params: Params) -> ProductData:
        """``line_items[][price_data][product_data]``."""
        name = params.required_string("name")
        return cls(name, ProductFields(
            description=params.string("description"),
            images=_read_images(params),
            metadata=params.metadata(),
            tax_code=params.string("tax_code"),
            unit_label=params.string("unit_label", max_length=UNIT_LABEL_MAX)))


def apply_product_fields(product: Product, fields: ProductFields) -> None:
    """Set the fields given (``None`` clears an optional one); merge the metadata."""
    for name in (*(name for name, _ in TEXT_FIELDS), "package_dimensions"):
        if (value := getattr(fields, name)) is not UNSET:
            setattr(product, name, value)
    for name in ("images", "marketing_features", "shippable", "active"):
        if (value := getattr(fields, name)) is not None:
            setattr(product, name, value)
    product.metadata = apply_metadata(product.metadata, fields.metadata)


# -- operations (those that touch prices too are in flows/catalog.py) ------------------
def new_product(ctx: Ctx, requested_id: str | None, name: str) -> Product:
    """A product made now. It may be given its own id; Stripe refuses one that is taken."""
    return Product(id=new_product_id(ctx, requested_id), created=ctx.now, updated=ctx.now,
                   name=name)


def new_product_id(ctx: Ctx, requested: str | None) -> str:
    """Products may be given their own id; Stripe refuses one that is taken."""
    if requested is None:
        return ctx.ids.new("prod", 14)
    if ctx.store.get(requested) is not None:
        raise InvalidRequestError(
            "Product already exists.", code="resource_already_exists", param="id"
        )
    return requested


def create_price_product(ctx: Ctx, data: ProductData) -> Product:
    """``POST /v1/prices`` with ``product_data``: a catalogue product."""
    product = new_product(ctx, data.id, data.name)
    apply_product_fields(product, data.fields)
    save(ctx, product)
    ctx.emit("product.created", product)
    return product


def create_inline_product(ctx: Ctx, data: ProductData) -> Product:
    """The product behind a Checkout line item's ``price_data[product_data]``."""
    product = new_product(ctx, None, data.name)
    product.active, product.inline = False, True
    apply_product_fields(product, data.fields)
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
