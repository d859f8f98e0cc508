"""/v1/disputes (https://docs.stripe.com/api/disputes)"""

from __future__ import annotations

from flask import Blueprint

from simulator.sandbox.api.endpoint import ListResult, stripe_endpoint
from simulator.sandbox.api.listing import list_objects
from simulator.sandbox.params import Params
from simulator.sandbox.resources import dispute as disputes
from simulator.sandbox.resources.base import Ctx

bp = Blueprint("disputes", __name__)


@bp.get("/v1/disputes")
@stripe_endpoint
def list_(ctx: Ctx, params: Params) -> ListResult:
    filters = {"charge": params.string("charge"),
               "payment_intent": params.string("payment_intent")}
    return list_objects(ctx, params, disputes.Dispute, "/v1/disputes", filters)


@bp.get("/v1/disputes/<dispute_id>")
@stripe_endpoint
def retrieve(ctx: Ctx, params: Params, dispute_id: str) -> disputes.Dispute:
    return disputes.retrieve_dispute(ctx, dispute_id)


@bp.post("/v1/disputes/<dispute_id>")
@stripe_endpoint
def update(ctx: Ctx, params: Params, dispute_id: str) -> disputes.Dispute:
    return disputes.update_dispute(ctx, dispute_id, disputes.DisputeUpdate.from_params(params))


@bp.post("/v1/disputes/<dispute_id>/close")
@stripe_endpoint
def close(ctx: Ctx, params: Params, dispute_id: str) -> disputes.Dispute:
    params.finish()  # closing takes no parameters
    return disputes.close_dispute(ctx, dispute_id)
