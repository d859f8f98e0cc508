"""/v1 routes for customers' cash balances: the balance and its settings, its
transactions, funding it in test mode, and applying it to a PaymentIntent."""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from simulator.sandbox.api.endpoint import ListResult, stripe_endpoint
from simulator.sandbox.api.listing import list_objects
from simulator.sandbox.flows import cash_balance as cash_flows
from simulator.sandbox.params import Params
from simulator.sandbox.resources import cash_balance
from simulator.sandbox.resources.base import Ctx, load
from simulator.sandbox.resources.customer import Customer
from simulator.sandbox.resources.payment_intent import PaymentIntent

bp = Blueprint("cash_balances", __name__)


@bp.get("/v1/customers/<customer_id>/cash_balance")
@stripe_endpoint
def retrieve(ctx: Ctx, params: Params, customer_id: str) -> dict[str, Any]:
    return cash_balance.retrieve_cash_balance(ctx, customer_id)


@bp.post("/v1/customers/<customer_id>/cash_balance")
@stripe_endpoint
def update(ctx: Ctx, params: Params, customer_id: str) -> dict[str, Any]:
    request = cash_balance.CashBalanceUpdate.from_params(params)
    return cash_balance.update_cash_balance(ctx, customer_id, request)


@bp.get("/v1/customers/<customer_id>/cash_balance_transactions")
@stripe_endpoint
def list_transactions(ctx: Ctx, params: Params, customer_id: str) -> ListResult:
    load(ctx, Customer, customer_id)
    url = f"/v1/customers/{customer_id}/cash_balance_transactions"
    return list_objects(ctx, params, cash_balance.CashBalanceTransaction, url,
                        {"customer": customer_id})


@bp.get("/v1/customers/<customer_id>/cash_balance_transactions/<transaction_id>")
@stripe_endpoint
def retrieve_transaction(ctx: Ctx, params: Params, customer_id: str, transaction_id: str
                         ) -> cash_balance.CashBalanceTransaction:
    return cash_balance.retrieve_transaction(ctx, customer_id, transaction_id)


@bp.post("/v1/test_helpers/customers/<customer_id>/fund_cash_balance")
@stripe_endpoint
def fund(ctx: Ctx, params: Params, customer_id: str) -> cash_balance.CashBalanceTransaction:
    funding = cash_balance.CashBalanceFunding.from_params(params)
    return cash_flows.fund_cash_balance(ctx, customer_id, funding)


@bp.post("/v1/payment_intents/<pi_id>/apply_customer_balance")
@stripe_endpoint
def apply_customer_balance(ctx: Ctx, params: Params, pi_id: str) -> PaymentIntent:
    application = cash_balance.CashApplication.from_params(params)
    params.finish()  # a misspelt ``amount`` is refused before the balance is checked
    return cash_flows.apply_customer_balance(ctx, pi_id, application)
