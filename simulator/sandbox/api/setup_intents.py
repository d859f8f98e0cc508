"""/v1/setup_intents (https://docs.stripe.com/api/setup_intents)."""

from __future__ import annotations

from flask import Blueprint

from simulator.sandbox.api.endpoint import ListResult, stripe_endpoint
from simulator.sandbox.api.listing import list_objects
from simulator.sandbox.params import Params
from simulator.sandbox.resources import setup_intent as setups
from simulator.sandbox.resources.base import Ctx
from simulator.sandbox.resources.common import Cancellation
from simulator.sandbox.resources.setup_intent_requests import (
    SetupIntentConfirm,
    SetupIntentCreate,
    SetupIntentUpdate,
)

bp = Blueprint("setup_intents", __name__)


@bp.post("/v1/setup_intents")
@stripe_endpoint
def create(ctx: Ctx, params: Params) -> setups.SetupIntent:
    return setups.create_setup_intent(ctx, SetupIntentCreate.from_params(params))


@bp.get("/v1/setup_intents/<seti_id>")
@stripe_endpoint
def retrieve(ctx: Ctx, params: Params, seti_id: str) -> setups.SetupIntent:
    params.string("client_secret")
    return setups.retrieve_setup_intent(ctx, seti_id)


@bp.post("/v1/setup_intents/<seti_id>")
@stripe_endpoint
def update(ctx: Ctx, params: Params, seti_id: str) -> setups.SetupIntent:
    return setups.update_setup_intent(ctx, seti_id, SetupIntentUpdate.from_params(params))


@bp.post("/v1/setup_intents/<seti_id>/confirm")
@stripe_endpoint
def confirm(ctx: Ctx, params: Params, seti_id: str) -> setups.SetupIntent:
    return setups.confirm_setup_intent(ctx, seti_id, SetupIntentConfirm.from_params(params))


@bp.post("/v1/setup_intents/<seti_id>/cancel")
@stripe_endpoint
def cancel(ctx: Ctx, params: Params, seti_id: str) -> setups.SetupIntent:
    return setups.cancel_setup_intent(
        ctx, seti_id, Cancellation.from_params(params, setups.CANCELLATION_REASONS))


@bp.get("/v1/setup_intents")
@stripe_endpoint
def list_(ctx: Ctx, params: Params) -> ListResult:
    filters = {"customer": params.string("customer"),
               "payment_method": params.string("payment_method")}
    params.boolean("attach_to_self")
    return list_objects(ctx, params, setups.SetupIntent, "/v1/setup_intents", filters)
