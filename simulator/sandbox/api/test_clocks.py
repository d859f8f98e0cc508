"""/v1/test_helpers/test_clocks"""

from __future__ import annotations

from flask import Blueprint

from simulator.sandbox.api.endpoint import ListResult, stripe_endpoint
from simulator.sandbox.api.listing import list_objects
from simulator.sandbox.flows import test_clocks as clock_flows
from simulator.sandbox.params import Params
from simulator.sandbox.resources import test_clock as clocks
from simulator.sandbox.resources.base import Ctx, load

bp = Blueprint("test_clocks", __name__)
URL = "/v1/test_helpers/test_clocks"


@bp.post(URL)
@stripe_endpoint
def create(ctx: Ctx, params: Params) -> clocks.TestClock:
    return clocks.create_test_clock(ctx, clocks.TestClockCreate.from_params(params))


@bp.get(f"{URL}/<clock_id>")
@stripe_endpoint
def retrieve(ctx: Ctx, params: Params, clock_id: str) -> clocks.TestClock:
    return load(ctx, clocks.TestClock, clock_id)


@bp.delete(f"{URL}/<clock_id>")
@stripe_endpoint
def delete(ctx: Ctx, params: Params, clock_id: str) -> clocks.TestClock:
    return clock_flows.delete_test_clock(ctx, clock_id)


@bp.post(f"{URL}/<clock_id>/advance")
@stripe_endpoint
def advance(ctx: Ctx, params: Params, clock_id: str) -> clocks.TestClock:
    request = clocks.TestClockAdvance.from_params(params)
    params.finish()  # unknown parameters are refused before the clock's state is checked
    return clocks.advance_test_clock(ctx, clock_id, request)


@bp.get(URL)
@stripe_endpoint
def list_(ctx: Ctx, params: Params) -> ListResult:
    return list_objects(ctx, params, clocks.TestClock, URL)
