"""/v1 routes for payments: PaymentMethods, PaymentIntents, charges, refunds and balance
transactions, plus the control-plane route that completes a 3-D Secure challenge."""

from __future__ import annotations

from flask import Blueprint

from simulator.sandbox.api.endpoint import (
    ListResult,
    stripe_endpoint,
)
from simulator.sandbox.api.listing import list_objects
from simulator.sandbox.params import Params
from simulator.sandbox.resources import balance_transaction as transactions
from simulator.sandbox.resources import charge as charges
from simulator.sandbox.resources import payment_intent as intents
from simulator.sandbox.resources import payment_method as methods
from simulator.sandbox.resources import refund as refunds
from simulator.sandbox.resources.base import Ctx, load
from simulator.sandbox.resources.common import Cancellation
from simulator.sandbox.resources.customer import Customer
from simulator.sandbox.resources.payment_intent_requests import (
    PaymentIntentCapture,
    PaymentIntentConfirm,
    PaymentIntentCreate,
    PaymentIntentUpdate,
)
from simulator.sandbox.resources.payment_method_data import PaymentMethodData, PaymentMethodUpdate

bp = Blueprint("payments", __name__)


# -- /v1/payment_methods ----------------------------------------------------------------
@bp.post("/v1/payment_methods")
@stripe_endpoint
def create_payment_method(ctx: Ctx, params: Params) -> methods.PaymentMethod:
    return methods.create_payment_method(ctx, PaymentMethodData.from_params(params))


@bp.get("/v1/payment_methods/<pm_id>")
@stripe_endpoint
def retrieve_payment_method(ctx: Ctx, params: Params, pm_id: str) -> methods.PaymentMethod:
    return methods.retrieve_payment_method(ctx, pm_id)


@bp.post("/v1/payment_methods/<pm_id>")
@stripe_endpoint
def update_payment_method(ctx: Ctx, params: Params, pm_id: str) -> methods.PaymentMethod:
    return methods.update_payment_method(ctx, pm_id, PaymentMethodUpdate.from_params(params))


@bp.post("/v1/payment_methods/<pm_id>/attach")
@stripe_endpoint
def attach_payment_method(ctx: Ctx, params: Params, pm_id: str) -> methods.PaymentMethod:
    customer = params.required_string("customer")
    params.finish()
    return methods.attach_payment_method(ctx, pm_id, customer, "id")


@bp.post("/v1/payment_methods/<pm_id>/detach")
@stripe_endpoint
def detach_payment_method(ctx: Ctx, params: Params, pm_id: str) -> methods.PaymentMethod:
    return methods.detach_payment_method(ctx, pm_id)


@bp.get("/v1/payment_methods")
@stripe_endpoint
def list_payment_methods(ctx: Ctx, params: Params) -> ListResult:
    filters = {"customer": params.string("customer"), "type": params.string("type")}
    return list_objects(ctx, params, methods.PaymentMethod, "/v1/payment_methods", filters)


@bp.get("/v1/customers/<customer_id>/payment_methods")
@stripe_endpoint
def list_customer_payment_methods(ctx: Ctx, params: Params, customer_id: str) -> ListResult:
    load(ctx, Customer, customer_id)
    filters = {"customer": customer_id, "type": params.string("type")}
    params.enum("allow_redisplay", methods.ALLOW_REDISPLAY)
    url = f"/v1/customers/{customer_id}/payment_methods"
    return list_objects(ctx, params, methods.PaymentMethod, url, filters)


@bp.get("/v1/customers/<customer_id>/payment_methods/<pm_id>")
@stripe_endpoint
def retrieve_customer_payment_method(
    ctx: Ctx, params: Params, customer_id: str, pm_id: str
) -> methods.PaymentMethod:
    return methods.customer_payment_method(ctx, customer_id, pm_id)


# -- /v1/payment_intents ----------------------------------------------------------------
@bp.post("/v1/payment_intents")
@stripe_endpoint
def create_payment_intent(ctx: Ctx, params: Params) -> intents.PaymentIntent:
    return intents.create_payment_intent(ctx, PaymentIntentCreate.from_params(params))


@bp.get("/v1/payment_intents/<pi_id>")
@stripe_endpoint
def retrieve_payment_intent(ctx: Ctx, params: Params, pi_id: str) -> intents.PaymentIntent:
    params.string("client_secret")
    return intents.retrieve_payment_intent(ctx, pi_id)


@bp.post("/v1/payment_intents/<pi_id>")
@stripe_endpoint
def update_payment_intent(ctx: Ctx, params: Params, pi_id: str) -> intents.PaymentIntent:
    return intents.update_payment_intent(ctx, pi_id, PaymentIntentUpdate.from_params(params))


@bp.post("/v1/payment_intents/<pi_id>/confirm")
@stripe_endpoint
def confirm_payment_intent(ctx: Ctx, params: Params, pi_id: str) -> intents.PaymentIntent:
    params.string("client_secret")
    return intents.confirm_payment_intent(ctx, pi_id, PaymentIntentConfirm.from_params(params))


@bp.post("/v1/payment_intents/<pi_id>/capture")
@stripe_endpoint
def capture_payment_intent(ctx: Ctx, params: Params, pi_id: str) -> intents.PaymentIntent:
    return intents.capture_payment_intent(ctx, pi_id, PaymentIntentCapture.from_params(params))


@bp.post("/v1/payment_intents/<pi_id>/cancel")
@stripe_endpoint
def cancel_payment_intent(ctx: Ctx, params: Params, pi_id: str) -> intents.PaymentIntent:
    return intents.cancel_payment_intent(
        ctx, pi_id, Cancellation.from_params(params, intents.CANCELLATION_REASONS))


@bp.get("/v1/payment_intents")
@stripe_endpoint
def list_payment_intents(ctx: Ctx, params: Params) -> ListResult:
    filters = {"customer": params.string("customer")}
    return list_objects(ctx, params, intents.PaymentIntent, "/v1/payment_intents", filters)


# -- /v1/charges ------------------------------------------------------------------------
@bp.get("/v1/charges/<charge_id>")
@stripe_endpoint
def retrieve_charge(ctx: Ctx, params: Params, charge_id: str) -> charges.Charge:
    return charges.retrieve_charge(ctx, charge_id)


@bp.post("/v1/charges/<charge_id>")
@stripe_endpoint
def update_charge(ctx: Ctx, params: Params, charge_id: str) -> charges.Charge:
    return charges.update_charge(ctx, charge_id, charges.ChargeUpdate.from_params(params))


@bp.get("/v1/charges")
@stripe_endpoint
def list_charges(ctx: Ctx, params: Params) -> ListResult:
    filters = {
        "customer": params.string("customer"),
        "payment_intent": params.string("payment_intent"),
    }
    return list_objects(ctx, params, charges.Charge, "/v1/charges", filters)


@bp.get("/v1/charges/<charge_id>/refunds")
@stripe_endpoint
def list_charge_refunds(ctx: Ctx, params: Params, charge_id: str) -> ListResult:
    load(ctx, charges.Charge, charge_id)
    url = f"/v1/charges/{charge_id}/refunds"
    return list_objects(ctx, params, refunds.Refund, url, {"charge": charge_id})


@bp.get("/v1/charges/<charge_id>/refunds/<refund_id>")
@stripe_endpoint
def retrieve_charge_refund(ctx: Ctx, params: Params, charge_id: str, refund_id: str
                           ) -> refunds.Refund:
    return refunds.charge_refund(ctx, charge_id, refund_id)


# -- /v1/refunds ------------------------------------------------------------------------
@bp.post("/v1/refunds")
@stripe_endpoint
def create_refund(ctx: Ctx, params: Params) -> refunds.Refund:
    return refunds.create_refund(ctx, refunds.RefundCreate.from_params(params))


@bp.get("/v1/refunds/<refund_id>")
@stripe_endpoint
def retrieve_refund(ctx: Ctx, params: Params, refund_id: str) -> refunds.Refund:
    return refunds.retrieve_refund(ctx, refund_id)


@bp.post("/v1/refunds/<refund_id>")
@stripe_endpoint
def update_refund(ctx: Ctx, params: Params, refund_id: str) -> refunds.Refund:
    return refunds.update_refund(ctx, refund_id, refunds.RefundUpdate.from_params(params))


@bp.get("/v1/refunds")
@stripe_endpoint
def list_refunds(ctx: Ctx, params: Params) -> ListResult:
    filters = {
        "charge": params.string("charge"),
        "payment_intent": params.string("payment_intent"),
    }
    return list_objects(ctx, params, refunds.Refund, "/v1/refunds", filters)


# -- /v1/balance_transactions -----------------------------------------------------------
@bp.get("/v1/balance_transactions/<txn_id>")
@stripe_endpoint
def retrieve_balance_transaction(ctx: Ctx, params: Params, txn_id: str
                                 ) -> transactions.BalanceTransaction:
    return load(ctx, transactions.BalanceTransaction, txn_id)


@bp.get("/v1/balance_transactions")
@stripe_endpoint
def list_balance_transactions(ctx: Ctx, params: Params) -> ListResult:
    filters = {"charge": params.string("source"), "type": params.string("type")}
    params.string("currency")
    params.string("payout")
    return list_objects(ctx, params, transactions.BalanceTransaction,
                        "/v1/balance_transactions", filters)
