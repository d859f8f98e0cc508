"""/v1/setup_intents (https://docs.stripe.com/api/setup_intents), and the control-plane
route that answers a SetupIntent's 3-D Secure challenge without a browser."""

from __future__ import annotations

from typing import Any, Literal, cast

from flask import Blueprint, request

from simulator.sandbox.api.endpoint import ListResult, json_response, runtime, stripe_endpoint
from simulator.sandbox.api.listing import list_objects
from simulator.sandbox.errors import InvalidRequestError
from simulator.sandbox.params import Params, invalid_enum
from simulator.sandbox.resources import setup_intent as setups
from simulator.sandbox.resources.base import Ctx, render

bp = Blueprint("setup_intents", __name__)
THREE_DS_OUTCOMES = ("authenticate", "fail")


@bp.post("/v1/setup_intents")
@stripe_endpoint
def create(ctx: Ctx, params: Params) -> setups.SetupIntent:
    return setups.create_setup_intent(ctx, params)


@bp.get("/v1/setup_intents/<seti_id>")
@stripe_endpoint
def retrieve(ctx: Ctx, params: Params, seti_id: str) -> setups.SetupIntent:
    params.string("client_secret")
    return setups.retrieve_setup_intent(ctx, seti_id)


@bp.post("/v1/setup_intents/<seti_id>")
@stripe_endpoint
def update(ctx: Ctx, params: Params, seti_id: str) -> setups.SetupIntent:
    return setups.update_setup_intent(ctx, seti_id, params)


@bp.post("/v1/setup_intents/<seti_id>/confirm")
@stripe_endpoint
def confirm(ctx: Ctx, params: Params, seti_id: str) -> setups.SetupIntent:
    return setups.confirm_setup_intent(ctx, seti_id, params)


@bp.post("/v1/setup_intents/<seti_id>/cancel")
@stripe_endpoint
def cancel(ctx: Ctx, params: Params, seti_id: str) -> setups.SetupIntent:
    return setups.cancel_setup_intent(ctx, seti_id, params)


@bp.get("/v1/setup_intents")
@stripe_endpoint
def list_(ctx: Ctx, params: Params) -> ListResult:
    filters = {"customer": params.string("customer"),
               "subtype": params.string("payment_method")}
    params.boolean("attach_to_self")
    return list_objects(ctx, params, setups.SetupIntent, "/v1/setup_intents", filters)


@bp.post("/_sandbox/setup_intents/<seti_id>/three_d_secure")
def three_d_secure(seti_id: str) -> Any:
    """``outcome=authenticate|fail``: what the sandbox's 3-D Secure page would submit."""
    outcome = request.values.get("outcome", "")
    if outcome not in THREE_DS_OUTCOMES:
        raise invalid_enum("outcome", outcome, list(THREE_DS_OUTCOMES)) if outcome else (
            InvalidRequestError("Missing required param: outcome.", code="parameter_missing",
                                param="outcome"))
    rt = runtime()
    with rt.store.transaction():
        ctx = Ctx(store=rt.store, now=rt.clock.timestamp(), ids=rt.ids,
                  base_url=rt.public_url(request.host_url), sink=rt.event_sink)
        seti = setups.complete_authentication(
            ctx, seti_id, cast(Literal["authenticate", "fail"], outcome))
        body = render(ctx, seti)
    return json_response(body)
