"""A Checkout Session's ``discounts`` (https://docs.stripe.com/api/checkout/sessions/create
#create_checkout_session-discounts): one coupon, taken off the line items it applies to
when the session is created; the coupon is redeemed when the session completes.

The sandbox has no promotion codes, so a ``promotion_code`` is always unknown.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from simulator.sandbox.errors import InvalidRequestError, resource_missing
from simulator.sandbox.params import Params
from simulator.sandbox.resources.base import Ctx
from simulator.sandbox.resources.checkout_line_items import LineItem, spread_discount
from simulator.sandbox.resources.coupon import Coupon, redeemable_coupon


@dataclass(frozen=True)
class CheckoutDiscount:
    """One ``discounts[]`` entry: a coupon's id or a promotion code, not both."""

    coupon: str | None = None
    promotion_code: str | None = None

    @classmethod
    def from_params(cls, entry: Params) -> CheckoutDiscount:
        if "coupon" in entry and "promotion_code" in entry:
            raise InvalidRequestError(
                "You may only specify one of these parameters: coupon, promotion_code.",
                param=entry.name("promotion_code"))
        promotion_code = entry.string("promotion_code")
        return cls(coupon=entry.string("coupon"), promotion_code=promotion_code)


def read_discounts(params: Params) -> tuple[CheckoutDiscount, ...]:
    entries = params.hashes("discounts")
    if len(entries) > 1:
        raise InvalidRequestError("You may only specify one discount on a Checkout Session.",
                                  param="discounts")
    return tuple(CheckoutDiscount.from_params(entry) for entry in entries)


def apply_discounts(ctx: Ctx, discounts: Sequence[CheckoutDiscount], items: list[LineItem],
                    currency: str) -> list[dict[str, str | None]]:
    """The session's ``discounts`` as rendered; each line item's ``amount_discount`` is
    set to its share."""
    applied: list[dict[str, str | None]] = []
    for index, discount in enumerate(discounts):
        name = f"discounts[{index}]"
        if discount.promotion_code is not None:
            raise resource_missing("promotion code", discount.promotion_code,
                                   f"{name}[promotion_code]")
        if not discount.coupon:
            continue
        coupon = redeemable_coupon(ctx, discount.coupon, f"{name}[coupon]")
        _apply(ctx, coupon, items, currency, f"{name}[coupon]")
        applied.append({"coupon": coupon.id, "promotion_code": None})
    return applied


def _apply(ctx: Ctx, coupon: Coupon, items: list[LineItem], currency: str,
           param: str) -> None:
    """Percentages off the items the coupon applies to; an amount off in the session's
    currency, never more than those items cost."""
    if coupon.percent_off is None and coupon.amount_in(currency) is None:
        raise InvalidRequestError(
            f"The coupon `{coupon.id}` has no `amount_off` in `{currency}`, the currency of"
            " this Checkout Session.", param=param)
    eligible = [item for item in items if coupon.applies_to_product(item.product(ctx))]
    subtotal = sum(item.amount_subtotal for item in eligible)
    spread_discount(eligible, coupon.discount_on(subtotal, currency))
