"""Creating and updating Products and Prices, as typed requests read at the edge.

The API reads the form into :class:`ProductCreate`, :class:`ProductUpdate`,
:class:`PriceCreate` or :class:`PriceUpdate` (``from_params``, which checks what can be
checked without the database and names the offending parameter); a Checkout line item's
``price_data`` is a :class:`LineItemPriceData`. The parts a product's own requests share
(``ProductFields``, ``ProductData``) are in ``product.py``. The operations (``price.py``,
``flows/catalog.py``) do the checks that need the store: a product that must exist, an id
or a lookup key already taken. A field an update leaves out is ``UNSET``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from simulator.sandbox.errors import InvalidRequestError, parameter_missing
from simulator.sandbox.params import Params
from simulator.sandbox.resources.common import UNSET, Maybe
from simulator.sandbox.resources.product import (
    PRODUCT_TYPES,
    ProductData,
    ProductFields,
    ProductType,
)

TAX_BEHAVIORS = ("exclusive", "inclusive", "unspecified")
INTERVALS = ("day", "week", "month", "year")
# "Maximum of three years interval allowed (3 years, 36 months, or 156 weeks)."
MAX_INTERVAL_COUNT = {"day": 1095, "week": 156, "month": 36, "year": 3}
LOOKUP_KEY_MAX = 200
MAX_DECIMAL_PLACES = 12


# -- products ---------------------------------------------------------------------------
@dataclass(frozen=True)
class ProductCreate:
    """``POST /v1/products``; ``default_price_data`` makes the product's first Price."""

    name: str
    id: str | None = None  # the product's own id, refused when taken
    type: ProductType = "service"
    fields: ProductFields = field(default_factory=ProductFields)
    default_price_data: PriceData | None = None

    @classmethod
    def from_params(cls, params: Params) -> ProductCreate:
        product_id = params.string("id")
        name = params.required_string("name")
        product_type: ProductType = \
            "good" if params.enum("type", PRODUCT_TYPES) == "good" else "service"
        fields = ProductFields.from_params(params)
        price_data = params.hash("default_price_data")
        return cls(name, product_id, product_type, fields,
                   PriceData.from_params(price_data) if price_data is not None else None)


@dataclass(frozen=True)
class ProductUpdate:
    """``POST /v1/products/{id}``; ``default_price`` must be one of the product's prices."""

    name: Maybe[str] = UNSET
    fields: ProductFields = field(default_factory=ProductFields)
    default_price: Maybe[str | None] = UNSET

    @classmethod
    def from_params(cls, params: Params) -> ProductUpdate:
        name: Maybe[str] = params.required_string("name") if "name" in params else UNSET
        fields = ProductFields.from_params(params)
        default_price: Maybe[str | None] = UNSET
        if "default_price" in params:
            default_price = params.string("default_price")
        return cls(name, fields, default_price)


# -- prices -----------------------------------------------------------------------------
@dataclass(frozen=True)
class Recurring:
    """``recurring``: how often a price is charged."""

    interval: str
    interval_count: int = 1

    @classmethod
    def from_params(cls, recurring: Params) -> Recurring:
        interval = recurring.enum("interval", INTERVALS, required=True)
        assert interval is not None
        count = recurring.integer("interval_count", minimum=1) or 1
        if count > MAX_INTERVAL_COUNT[interval]:
            raise InvalidRequestError(
                "The maximum billing interval is 3 years (3 years, 36 months, 156 weeks or"
                " 1095 days).",
                param=recurring.name("interval_count"),
            )
        return cls(interval, count)

    def as_dict(self) -> dict[str, Any]:
        """As the Price renders it."""
        return {
            "interval": self.interval,
            "interval_count": self.interval_count,
            "meter": None,
            "trial_period_days": None,
            "usage_type": "licensed",
        }


@dataclass(frozen=True)
class PriceData:
    """What every way of making a price gives: currency, amount, recurrence, tax behaviour
    and metadata (``default_price_data`` is exactly this)."""

    currency: str
    unit_amount_decimal: str  # ``unit_amount`` or ``unit_amount_decimal``, as a decimal
    recurring: Recurring | None = None
    tax_behavior: str = "unspecified"
    metadata: dict[str, str] | None = None

    @classmethod
    def from_params(cls, params: Params) -> PriceData:
        currency = params.currency(required=True)
        assert currency is not None
        amount = _read_unit_amount(params)
        recurring = params.hash("recurring")
        return cls(
            currency=currency,
            unit_amount_decimal=amount,
            recurring=Recurring.from_params(recurring) if recurring is not None else None,
            tax_behavior=params.enum("tax_behavior", TAX_BEHAVIORS) or "unspecified",
            metadata=params.metadata(),
        )


@dataclass(frozen=True)
class PriceCreate:
    """``POST /v1/prices``: for ``product``, an existing product's id or the new product
    of ``product_data``."""

    product: str | ProductData
    data: PriceData
    active: bool | None = None
    nickname: str | None = None
    lookup_key: str | None = None
    transfer_lookup_key: bool = False

    @classmethod
    def from_params(cls, params: Params) -> PriceCreate:
        product = _read_product(params)
        return cls(
            product=ProductData.for_price(product) if isinstance(product, Params) else product,
            data=PriceData.from_params(params),
            active=params.boolean("active"),
            nickname=params.string("nickname"),
            transfer_lookup_key=bool(params.boolean("transfer_lookup_key")),
            lookup_key=params.string("lookup_key", max_length=LOOKUP_KEY_MAX),
        )


@dataclass(frozen=True)
class LineItemPriceData:
    """``line_items[][price_data]``: an inline price for ``product``, an existing
    product's id or the inline product of ``product_data``."""

    product: str | ProductData
    data: PriceData

    @classmethod
    def from_params(cls, params: Params) -> LineItemPriceData:
        product = _read_product(params)
        inline = ProductData.for_line_item(product) if isinstance(product, Params) else product
        return cls(inline, PriceData.from_params(params))


@dataclass(frozen=True)
class PriceUpdate:
    """``POST /v1/prices/{id}``: only what Stripe lets change after creation."""

    active: bool | None = None
    nickname: Maybe[str | None] = UNSET
    tax_behavior: str | None = None
    metadata: dict[str, str] | None = None
    lookup_key: Maybe[str | None] = UNSET
    transfer_lookup_key: bool = False

    @classmethod
    def from_params(cls, params: Params) -> PriceUpdate:
        active = params.boolean("active")
        nickname: Maybe[str | None] = params.string("nickname") if "nickname" in params \
            else UNSET
        tax_behavior = params.enum("tax_behavior", TAX_BEHAVIORS)
        metadata = params.metadata()
        transfer = bool(params.boolean("transfer_lookup_key"))
        lookup_key: Maybe[str | None] = UNSET
        if "lookup_key" in params:
            lookup_key = params.string("lookup_key", max_length=LOOKUP_KEY_MAX)
        return cls(active, nickname, tax_behavior, metadata, lookup_key, transfer)


def _read_product(params: Params) -> str | Params:
    """``product`` (an existing id) or the ``product_data`` hash (a new product), not
    both."""
    if "product" in params and "product_data" in params:
        raise InvalidRequestError(
            "You may only specify one of these parameters: product, product_data.",
            param=params.name("product"),
        )
    product_data = params.hash("product_data")
    if product_data is not None:
        return product_data
    product_id = params.string("product")
    if product_id is None:
        raise parameter_missing(params.name("product"))
    return product_id


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
