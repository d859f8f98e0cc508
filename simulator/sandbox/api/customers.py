"""/v1/customers"""

from __future__ import annotations

from flask import Blueprint

from simulator.sandbox.api.endpoint import ListResult, stripe_endpoint
from simulator.sandbox.api.listing import list_objects
from simulator.sandbox.flows import customers as customer_flows
from simulator.sandbox.params import Params
from simulator.sandbox.resources import customer as customers
from simulator.sandbox.resources.base import Ctx
from simulator.sandbox.resources.customer_requests import CustomerCreate, CustomerUpdate

bp = Blueprint("customers", __name__)


@bp.post("/v1/customers")
@stripe_endpoint
def create(ctx: Ctx, params: Params) -> customers.Customer:
    return customer_flows.create_customer(ctx, CustomerCreate.from_params(params))


@bp.get("/v1/customers/<customer_id>")
@stripe_endpoint
def retrieve(ctx: Ctx, params: Params, customer_id: str) -> customers.Customer:
    return customers.retrieve_customer(ctx, customer_id)


@bp.post("/v1/customers/<customer_id>")
@stripe_endpoint
def update(ctx: Ctx, params: Params, customer_id: str) -> customers.Customer:
    return customer_flows.update_customer(ctx, customer_id, CustomerUpdate.from_params(params))


@bp.delete("/v1/customers/<customer_id>")
@stripe_endpoint
def delete(ctx: Ctx, params: Params, customer_id: str) -> customers.Customer:
    return customers.delete_customer(ctx, customer_id)


@bp.get("/v1/customers")
@stripe_endpoint
def list_(ctx: Ctx, params: Params) -> ListResult:
    filters = {"email": params.string("email")}
    params.string("test_clock")
    return list_objects(ctx, params, customers.Customer, "/v1/customers", filters)
