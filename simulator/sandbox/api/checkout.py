"""/v1/checkout/sessions"""

from __future__ import annotations

from flask import Blueprint

from simulator.sandbox.api.catalog import page_by_id
from simulator.sandbox.api.endpoint import ListResult, stripe_endpoint
from simulator.sandbox.api.listing import list_objects
from simulator.sandbox.flows import checkout_expiry, checkout_sessions
from simulator.sandbox.params import Params
from simulator.sandbox.resources import checkout_session as sessions
from simulator.sandbox.resources.base import Ctx, load
from simulator.sandbox.resources.checkout_line_items import LineItem, line_items_url
from simulator.sandbox.resources.checkout_session_requests import CheckoutSessionCreate

bp = Blueprint("checkout", __name__)


@bp.post("/v1/checkout/sessions")
@stripe_endpoint
def create(ctx: Ctx, params: Params) -> sessions.CheckoutSession:
    request = CheckoutSessionCreate.from_params(params, ctx.api_version)
    return checkout_sessions.create_checkout_session(ctx, request)


@bp.get("/v1/checkout/sessions/<session_id>")
@stripe_endpoint
def retrieve(ctx: Ctx, params: Params, session_id: str) -> sessions.CheckoutSession:
    return sessions.retrieve_checkout_session(ctx, session_id)


@bp.post("/v1/checkout/sessions/<session_id>/expire")
@stripe_endpoint
def expire(ctx: Ctx, params: Params, session_id: str) -> sessions.CheckoutSession:
    return checkout_expiry.expire_checkout_session(ctx, session_id)


@bp.get("/v1/checkout/sessions")
@stripe_endpoint
def list_(ctx: Ctx, params: Params) -> ListResult:
    details = params.hash("customer_details")
    email = details.required_string("email") if details is not None else None
    filters = {"customer": params.string("customer"),
               "payment_intent": params.string("payment_intent"),
               "email": email, "status": params.enum("status", sessions.STATUSES)}
    return list_objects(ctx, params, sessions.CheckoutSession, "/v1/checkout/sessions",
                        filters)


@bp.get("/v1/checkout/sessions/<session_id>/line_items")
@stripe_endpoint
def list_line_items(ctx: Ctx, params: Params, session_id: str) -> ListResult:
    """Line items in the order they were given, paged by line item id."""
    session = load(ctx, sessions.CheckoutSession, session_id)
    url = line_items_url(session.id)
    return page_by_id(params, url, list(session.items()), LineItem.NOUN)
