"""Coupons (https://docs.stripe.com/api/coupons): a percentage or an amount off, applied
to a Checkout Session through ``discounts[][coupon]``.

A coupon is ``valid`` until its ``redeem_by`` passes on the sandbox clock or it has been
redeemed ``max_redemptions`` times; a Checkout Session redeems it when it completes.
Only ``name`` and ``metadata`` can change after creation. ``applies_to`` and
``currency_options`` are sent only when expanded, as on Stripe.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from simulator.sandbox.errors import InvalidRequestError, parameter_missing, resource_missing
from simulator.sandbox.params import Params, apply_metadata, currency_code
from simulator.sandbox.resources.base import (
    Ctx,
    StripeObject,
    find,
    load,
    previous_attributes,
    save,
)
from simulator.sandbox.resources.common import UNSET, Maybe
from simulator.sandbox.resources.product import Product, read_decimal

DURATIONS = ("forever", "once", "repeating")
ID_LENGTH = 8
MAX_ID_LENGTH = 200
MAX_NAME_LENGTH = 40
MAX_REDEEM_BY_YEARS = 5
YEAR = 365 * 24 * 3600


@dataclass(kw_only=True)
class Coupon(StripeObject):
    OBJECT = "coupon"
    PREFIX = ""
    NOUN = "coupon"
    INCLUDABLE = frozenset({"applies_to", "currency_options"})

    duration: str = "once"
    percent_off: float | None = None
    amount_off: int | None = None
    currency: str | None = None
    currency_options: dict[str, int] = field(default_factory=dict)
    applies_to: list[str] | None = None
    duration_in_months: int | None = None
    max_redemptions: int | None = None
    redeem_by: int | None = None
    times_redeemed: int = 0
    name: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    deleted: bool = False

    def is_deleted(self) -> bool:
        return self.deleted

    def is_valid(self, now: int) -> bool:
        """What ``valid`` says: not past ``redeem_by`` and not redeemed up to the limit."""
        expired = self.redeem_by is not None and now > self.redeem_by
        used_up = self.max_redemptions is not None and \
            self.times_redeemed >= self.max_redemptions
        return not (self.deleted or expired or used_up)

    def include(self, ctx: Ctx, name: str) -> Any:
        if name == "applies_to":
            return {"products": list(self.applies_to)} if self.applies_to is not None else None
        options = {self.currency: self.amount_off} if self.currency and self.amount_off else {}
        options.update(self.currency_options)
        return {currency: {"amount_off": amount} for currency, amount in options.items()}

    def serialize(self, ctx: Ctx) -> dict[str, Any]:
        if self.deleted:
            return {"id": self.id, "object": "coupon", "deleted": True}
        return {
            "id": self.id,
            "object": "coupon",
            "amount_off": self.amount_off,
            "created": self.created,
            "currency": self.currency,
            "duration": self.duration,
            "duration_in_months": self.duration_in_months,
            "livemode": False,
            "max_redemptions": self.max_redemptions,
            "metadata": dict(self.metadata),
            "name": self.name,
            "percent_off": self.percent_off,
            "redeem_by": self.redeem_by,
            "times_redeemed": self.times_redeemed,
            "valid": self.is_valid(ctx.now),
        }

    def discount_on(self, amount: int, currency: str) -> int:
        """How much this coupon takes off ``amount`` (never more than ``amount``);
        percentages are rounded half up to the currency's minor unit."""
        if self.percent_off is not None:
            off = Decimal(amount) * Decimal(str(self.percent_off)) / 100
            return min(amount, int(off.quantize(Decimal(1), rounding=ROUND_HALF_UP)))
        return min(amount, self.amount_in(currency) or 0)

    def amount_in(self, currency: str) -> int | None:
        """``amount_off`` in ``currency``: the coupon's own or one of its options."""
        if currency == self.currency:
            return self.amount_off
        return self.currency_options.get(currency)

    def applies_to_product(self, product_id: str) -> bool:
        return self.applies_to is None or product_id in self.applies_to


# -- requests ---------------------------------------------------------------------------
@dataclass(frozen=True)
class AmountOff:
    """An amount off in ``currency``, and in the other currencies of ``currency_options``."""

    amount: int
    currency: str
    currency_options: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class CouponCreate:
    """``POST /v1/coupons``: a percentage or an amount off, not both.

    ``redeem_by`` is checked against the sandbox clock and ``applies_to`` against the
    products when the coupon is made."""

    id: str | None = None  # the code a customer types; refused when taken
    percent_off: float | None = None
    amount_off: AmountOff | None = None
    duration: str = "once"
    duration_in_months: int | None = None
    applies_to: list[str] | None = None  # applies_to[products]
    max_redemptions: int | None = None
    redeem_by: int | None = None
    name: str | None = None
    metadata: dict[str, str] | None = None

    @classmethod
    def from_params(cls, params: Params) -> CouponCreate:
        coupon_id = params.string("id", max_length=MAX_ID_LENGTH)
        percent_off = _read_percent_off(params)
        amount_off = _read_amount(params)
        if percent_off is not None and amount_off is not None:
            raise InvalidRequestError(
                "You may only specify one of these parameters: amount_off, percent_off.",
                param="percent_off")
        if percent_off is None and amount_off is None:
            raise InvalidRequestError("You must specify either `percent_off` or `amount_off`.",
                                      code="parameter_missing", param="percent_off")
        duration, months = _read_duration(params)
        return cls(
            id=coupon_id,
            percent_off=percent_off,
            amount_off=amount_off,
            duration=duration,
            duration_in_months=months,
            applies_to=_read_applies_to(params),
            max_redemptions=params.integer("max_redemptions", minimum=1),
            redeem_by=params.integer("redeem_by"),
            name=params.string("name", max_length=MAX_NAME_LENGTH),
            metadata=params.metadata(),
        )


@dataclass(frozen=True)
class CouponUpdate:
    """``POST /v1/coupons/{id}``: only ``name`` and ``metadata`` change;
    ``currency_options`` adds currencies to an amount-off coupon."""

    name: Maybe[str | None] = UNSET
    metadata: dict[str, str] | None = None
    currency_options: dict[str, int] | None = None

    @classmethod
    def from_params(cls, params: Params) -> CouponUpdate:
        name: Maybe[str | None] = UNSET
        if "name" in params:
            name = params.string("name", max_length=MAX_NAME_LENGTH)
        metadata = params.metadata()
        return cls(name, metadata, _read_currency_options(params, None))


def _read_percent_off(params: Params) -> float | None:
    percent = read_decimal(params, "percent_off")
    if percent is None:
        return None
    if not math.isfinite(percent) or not 0 < percent <= 100:
        raise InvalidRequestError(
            "Invalid percent_off: must be greater than 0 and less than or equal to 100.",
            param="percent_off")
    return percent


def _read_amount(params: Params) -> AmountOff | None:
    """``amount_off`` with its ``currency`` and ``currency_options``."""
    amount = params.integer("amount_off", minimum=1)
    currency = params.currency("currency")
    options = _read_currency_options(params, amount is not None) or {}
    if amount is None:
        return None
    if currency is None:
        raise parameter_missing("currency")
    options.pop(currency, None)
    return AmountOff(amount, currency, options)


def _read_currency_options(params: Params, amount_based: bool | None) -> dict[str, int] | None:
    """``currency_options[eur][amount_off]=…``: the amount off in other currencies
    (``None`` when not given). Only an amount-off coupon has them: ``amount_based`` says
    whether this one is, ``None`` when the coupon is not known yet."""
    raw_options = params.hash("currency_options")
    if raw_options is None:
        return None
    if amount_based is False:
        raise _options_need_amount()
    options: dict[str, int] = {}
    codes = raw_options.keys()
    for code in codes:
        option = raw_options.hash(code, required=True)
        assert option is not None
        amount = option.required_integer("amount_off", minimum=1)
        options[currency_code(code, f"{raw_options.name(code)}[currency]")] = amount
    return options


def _options_need_amount() -> InvalidRequestError:
    return InvalidRequestError("`currency_options` can only be set on coupons with an"
                               " `amount_off`.", param="currency_options")


def _read_duration(params: Params) -> tuple[str, int | None]:
    duration = params.enum("duration", DURATIONS) or "once"
    months = params.integer("duration_in_months", minimum=1)
    if duration == "repeating" and months is None:
        raise parameter_missing("duration_in_months")
    if duration != "repeating" and months is not None:
        raise InvalidRequestError(
            "`duration_in_months` can only be set when `duration` is `repeating`.",
            param="duration_in_months")
    return duration, months


def _read_applies_to(params: Params) -> list[str] | None:
    """``applies_to[products]``: the products whose line items the coupon discounts."""
    applies_to = params.hash("applies_to")
    if applies_to is None:
        return None
    return applies_to.strings("products") or []


# -- checks against the sandbox ------------------------------------------------------------
def _check_redeem_by(ctx: Ctx, redeem_by: int | None) -> None:
    if redeem_by is None:
        return
    if redeem_by <= ctx.now:
        raise InvalidRequestError("Invalid redeem_by: must be in the future.",
                                  param="redeem_by")
    if redeem_by > ctx.now + MAX_REDEEM_BY_YEARS * YEAR:
        raise InvalidRequestError(
            f"Invalid redeem_by: must be at most {MAX_REDEEM_BY_YEARS} years in the future.",
            param="redeem_by")


def _check_products(ctx: Ctx, products: list[str] | None) -> None:
    for index, product_id in enumerate(products or []):
        load(ctx, Product, product_id, param=f"applies_to[products][{index}]")


def _new_coupon_id(ctx: Ctx, requested: str | None) -> str:
    """Coupons may be given their own id (the code a customer types); one that is taken
    is refused (the sandbox keeps deleted coupons, so their ids stay taken)."""
    if requested is None:
        return ctx.ids.token(ID_LENGTH * 2).upper()[:ID_LENGTH]
    if ctx.store.get(requested) is not None:
        raise InvalidRequestError("Coupon already exists.", code="resource_already_exists",
                                  param="id")
    return requested


# -- operations -------------------------------------------------------------------------
def create_coupon(ctx: Ctx, request: CouponCreate) -> Coupon:
    coupon_id = _new_coupon_id(ctx, request.id)
    _check_products(ctx, request.applies_to)
    _check_redeem_by(ctx, request.redeem_by)
    amount = request.amount_off
    coupon = Coupon(
        id=coupon_id,
        created=ctx.now,
        duration=request.duration,
        duration_in_months=request.duration_in_months,
        percent_off=request.percent_off,
        amount_off=amount.amount if amount is not None else None,
        currency=amount.currency if amount is not None else None,
        currency_options=dict(amount.currency_options) if amount is not None else {},
        applies_to=list(request.applies_to) if request.applies_to is not None else None,
        max_redemptions=request.max_redemptions,
        redeem_by=request.redeem_by,
        name=request.name,
        metadata=apply_metadata({}, request.metadata),
    )
    save(ctx, coupon)
    ctx.emit("coupon.created", coupon)
    return coupon


def retrieve_coupon(ctx: Ctx, coupon_id: str) -> Coupon:
    return load(ctx, Coupon, coupon_id)


def update_coupon(ctx: Ctx, coupon_id: str, request: CouponUpdate) -> Coupon:
    """Only ``name`` and ``metadata`` change (``currency_options`` adds currencies)."""
    coupon = load(ctx, Coupon, coupon_id)
    before = coupon.serialize(ctx)
    if request.name is not UNSET:
        coupon.name = request.name
    coupon.metadata = apply_metadata(coupon.metadata, request.metadata)
    if request.currency_options is not None:
        if coupon.amount_off is None:
            raise _options_need_amount()
        coupon.currency_options.update(request.currency_options)
    save(ctx, coupon)
    after = coupon.serialize(ctx)
    if after != before:
        ctx.emit("coupon.updated", coupon, previous_attributes(before, after))
    return coupon


def delete_coupon(ctx: Ctx, coupon_id: str) -> Coupon:
    """Sessions that already carry the coupon keep their discount; new ones cannot."""
    coupon = load(ctx, Coupon, coupon_id)
    snapshot = Coupon.from_state(coupon.state())
    coupon.deleted = True
    save(ctx, coupon)
    ctx.emit("coupon.deleted", snapshot)
    return coupon


# -- for Checkout Sessions ----------------------------------------------------------------
def redeemable_coupon(ctx: Ctx, coupon_id: str, param: str) -> Coupon:
    """The coupon a new discount names: it must exist and still be ``valid``."""
    coupon = find(ctx, Coupon, coupon_id)
    if coupon is None or coupon.deleted:
        raise resource_missing(Coupon.NOUN, coupon_id, param)
    if not coupon.is_valid(ctx.now):
        raise _expired(coupon, param)
    return coupon


def _expired(coupon: Coupon, param: str | None = None) -> InvalidRequestError:
    """Stripe's ``coupon_expired``: past ``redeem_by`` or used up."""
    return InvalidRequestError(f"Coupon expired: {coupon.id}", code="coupon_expired",
                               param=param)


def check_redemptions_left(ctx: Ctx, coupon_id: str) -> None:
    """Before a session with this coupon is paid: another session may have used up its
    ``max_redemptions`` since this one was made."""
    coupon = find(ctx, Coupon, coupon_id)
    if coupon is not None and coupon.max_redemptions is not None and \
            coupon.times_redeemed >= coupon.max_redemptions:
        raise _expired(coupon)


def redeem(ctx: Ctx, coupon_id: str) -> None:
    """One more redemption: a Checkout Session with this coupon was completed."""
    coupon = find(ctx, Coupon, coupon_id)
    if coupon is not None:
        coupon.times_redeemed += 1
        save(ctx, coupon)
