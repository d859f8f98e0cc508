"""/v1/coupons (https://docs.stripe.com/api/coupons)"""

from __future__ import annotations

from flask import Blueprint

from simulator.sandbox.api.endpoint import ListResult, stripe_endpoint
from simulator.sandbox.api.listing import list_objects
from simulator.sandbox.params import Params
from simulator.sandbox.resources import coupon as coupons
from simulator.sandbox.resources.base import Ctx

bp = Blueprint("coupons", __name__)


@bp.post("/v1/coupons")
@stripe_endpoint
def create(ctx: Ctx, params: Params) -> coupons.Coupon:
    return coupons.create_coupon(ctx, coupons.CouponCreate.from_params(params))


@bp.get("/v1/coupons/<coupon_id>")
@stripe_endpoint
def retrieve(ctx: Ctx, params: Params, coupon_id: str) -> coupons.Coupon:
    return coupons.retrieve_coupon(ctx, coupon_id)


@bp.post("/v1/coupons/<coupon_id>")
@stripe_endpoint
def update(ctx: Ctx, params: Params, coupon_id: str) -> coupons.Coupon:
    return coupons.update_coupon(ctx, coupon_id, coupons.CouponUpdate.from_params(params))


@bp.delete("/v1/coupons/<coupon_id>")
@stripe_endpoint
def delete(ctx: Ctx, params: Params, coupon_id: str) -> coupons.Coupon:
    return coupons.delete_coupon(ctx, coupon_id)


@bp.get("/v1/coupons")
@stripe_endpoint
def list_(ctx: Ctx, params: Params) -> ListResult:
    return list_objects(ctx, params, coupons.Coupon, "/v1/coupons")
