"""/v1 routes of the card paths that predate PaymentMethods: tokens, a customer's card
sources, and charges made with a source."""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from simulator.sandbox.api.endpoint import ListResult, stripe_endpoint
from simulator.sandbox.api.listing import list_objects
from simulator.sandbox.params import Params
from simulator.sandbox.resources import charge as charges
from simulator.sandbox.resources import customer_source as sources
from simulator.sandbox.resources import source_charge
from simulator.sandbox.resources import token as tokens
from simulator.sandbox.resources.base import Ctx, load
from simulator.sandbox.resources.card import Card, CardUpdate, customer_card
from simulator.sandbox.resources.customer import Customer

bp = Blueprint("sources", __name__)


# -- /v1/tokens -------------------------------------------------------------------------
@bp.post("/v1/tokens")
@stripe_endpoint
def create_token(ctx: Ctx, params: Params) -> tokens.Token:
    return tokens.create_token(ctx, tokens.TokenCreate.from_params(params))


@bp.get("/v1/tokens/<token_id>")
@stripe_endpoint
def retrieve_token(ctx: Ctx, params: Params, token_id: str) -> tokens.Token:
    return tokens.retrieve_token(ctx, token_id)


# -- /v1/customers/{customer}/sources ---------------------------------------------------
@bp.post("/v1/customers/<customer_id>/sources")
@stripe_endpoint
def create_source(ctx: Ctx, params: Params, customer_id: str) -> Card:
    return sources.create_source(ctx, customer_id, sources.SourceCreate.from_params(params))


@bp.get("/v1/customers/<customer_id>/sources")
@stripe_endpoint
def list_sources(ctx: Ctx, params: Params, customer_id: str) -> ListResult:
    load(ctx, Customer, customer_id)
    kind = sources.source_object(params)
    url = f"/v1/customers/{customer_id}/sources"
    if kind not in (None, "card"):
        params.integer("limit")
        params.string("starting_after")
        params.string("ending_before")
        return ListResult(url, [], False)
    return list_objects(ctx, params, Card, url, {"customer": customer_id})


@bp.get("/v1/customers/<customer_id>/sources/<source_id>")
@stripe_endpoint
def retrieve_source(ctx: Ctx, params: Params, customer_id: str, source_id: str) -> Card:
    load(ctx, Customer, customer_id)
    return customer_card(ctx, customer_id, source_id)


@bp.post("/v1/customers/<customer_id>/sources/<source_id>")
@stripe_endpoint
def update_source(ctx: Ctx, params: Params, customer_id: str, source_id: str) -> Card:
    return sources.update_source(ctx, customer_id, source_id, CardUpdate.from_params(params))


@bp.delete("/v1/customers/<customer_id>/sources/<source_id>")
@stripe_endpoint
def delete_source(ctx: Ctx, params: Params, customer_id: str, source_id: str) -> Any:
    return sources.delete_source(ctx, customer_id, source_id)


# -- /v1/charges ------------------------------------------------------------------------
@bp.post("/v1/charges")
@stripe_endpoint
def create_charge(ctx: Ctx, params: Params) -> charges.Charge:
    return source_charge.create_charge(ctx, source_charge.ChargeCreate.from_params(params))


@bp.post("/v1/charges/<charge_id>/capture")
@stripe_endpoint
def capture_charge(ctx: Ctx, params: Params, charge_id: str) -> charges.Charge:
    return source_charge.capture_charge(ctx, charge_id,
                                        source_charge.ChargeCapture.from_params(params))
