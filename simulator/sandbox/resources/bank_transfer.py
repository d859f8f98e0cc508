"""Paying from the customer's cash balance, funded by bank transfer: a PaymentIntent
confirmed with a ``customer_balance`` PaymentMethod
(https://docs.stripe.com/payments/bank-transfers/accept-a-payment).

Confirming ends in one of three states, as Stripe.js documents for
``confirmCustomerBalancePayment``: the cash balance covers the amount, which is applied at
once and the payment succeeds; it does not and no ``funding_type`` was given, so the
PaymentIntent is back to ``requires_payment_method``; or it does not and the PaymentIntent
``requires_action`` with ``next_action.display_bank_transfer_instructions`` (the amount
still to send, the customer's virtual accounts and a reference). Under automatic
reconciliation what the balance holds is applied straight away, and funds that arrive later
(``flows/cash_balance.py``) are applied too: each application is an ``applied_to_payment``
cash balance transaction; one that leaves some of the amount unpaid is
``payment_intent.partially_funded``, the one that completes it makes the charge and
succeeds the payment.
"""

from __future__ import annotations

from typing import Any, Protocol

from simulator.sandbox import virtual_accounts
from simulator.sandbox.errors import InvalidRequestError
from simulator.sandbox.resources import cash_balance
from simulator.sandbox.resources import charge as charges
from simulator.sandbox.resources.base import Ctx, load, save
from simulator.sandbox.resources.customer import Customer
from simulator.sandbox.resources.payment_method import PaymentMethod, check_type_allowed

METHOD = "customer_balance"
FUNDING_TYPES = ("bank_transfer",)
REFERENCE_LENGTH = 12


class FundedPayment(charges.ChargedPayment, Protocol):
    """What paying from the cash balance reads and changes on the PaymentIntent."""

    status: Any
    payment_method: str | None
    latest_charge: str | None
    last_payment_error: dict[str, Any] | None
    amount_received: int
    payment_method_types: list[str]
    automatic_payment_methods: dict[str, Any] | None
    balance_options: dict[str, Any] | None
    funding: dict[str, Any] | None
    cash_applied: int

    def serialize(self, ctx: Ctx) -> dict[str, Any]: ...


# -- payment_method_options[customer_balance] (read in payment_intent_requests) ---------
def shown_options(options: dict[str, Any] | None) -> dict[str, Any]:
    """``payment_method_options.customer_balance`` as Stripe shows it."""
    options = options or {}
    shown: dict[str, Any] = {"funding_type": options.get("funding_type")}
    if "bank_transfer" in options:
        shown["bank_transfer"] = dict(options["bank_transfer"])
    return shown


def next_action(pi: FundedPayment) -> dict[str, Any]:
    """``display_bank_transfer_instructions`` of a PaymentIntent waiting for funds."""
    funding = pi.funding or {}
    return {
        "display_bank_transfer_instructions": {
            "amount_remaining": pi.amount - pi.cash_applied,
            "currency": pi.currency,
            "financial_addresses": list(funding.get("financial_addresses") or []),
            "hosted_instructions_url": None,
            "reference": funding.get("reference"),
            "type": funding.get("type"),
        },
        "type": "display_bank_transfer_instructions",
    }


# -- confirming -------------------------------------------------------------------------
def start_funding(ctx: Ctx, pi: FundedPayment, pm: PaymentMethod) -> None:
    """Confirm ``pi`` with the ``customer_balance`` PaymentMethod ``pm``; the caller saves
    ``pi`` and ``pm``."""
    if pi.customer is None:
        raise InvalidRequestError(
            "A customer is required to pay with the customer_balance payment method: pass"
            " `customer` on the PaymentIntent.", param="customer")
    check_type_allowed(METHOD, pi.payment_method_types, pi.automatic_payment_methods)
    customer = load(ctx, Customer, pi.customer, "customer")
    options = pi.balance_options or {}
    remaining = pi.amount - pi.cash_applied
    available = customer.cash_available.get(pi.currency, 0)
    transfer = options.get("bank_transfer")
    if available < remaining and options.get("funding_type") is not None and transfer:
        _check_currency(pi.currency, transfer["type"])
    pi.payment_method, pi.last_payment_error = pm.id, None
    if available >= remaining:
        apply_cash(ctx, pi, customer, remaining, pm)
    elif options.get("funding_type") is None:
        _not_covered(ctx, pi, pm, available)
        return
    else:
        _await_funds(ctx, pi, customer.id, transfer or {})
        if available > 0 and customer.reconciles_automatically:
            apply_cash(ctx, pi, customer, available, pm)
    save(ctx, customer)


def _check_currency(currency: str, kind: str) -> None:
    expected = virtual_accounts.CURRENCY[kind]
    if currency != expected:
        raise InvalidRequestError(
            f"The currency provided ({currency}) is invalid. Payments with customer_balance"
            f" funded by {kind} support the following currencies: {expected}.",
            param="currency")


def _await_funds(ctx: Ctx, pi: FundedPayment, customer_id: str,
                 transfer: dict[str, Any]) -> None:
    """Show the bank transfer instructions; a reference, once given, stays the same."""
    kind = transfer["type"]
    country = (transfer.get("eu_bank_transfer") or {}).get("country")
    reference = (pi.funding or {}).get("reference") or ctx.ids.token(REFERENCE_LENGTH).upper()
    pi.funding = {
        "type": kind,
        "reference": reference,
        "financial_addresses": virtual_accounts.financial_addresses(
            customer_id, kind, transfer.get("requested_address_types"), country),
    }
    pi.status = "requires_action"
    ctx.emit("payment_intent.requires_action", pi)


def _not_covered(ctx: Ctx, pi: FundedPayment, pm: PaymentMethod, available: int) -> None:
    """No funding type: a balance that falls short fails the attempt."""
    pi.status, pi.payment_method = "requires_payment_method", None
    pi.last_payment_error = {
        "code": "payment_intent_payment_attempt_failed",
        "message": f"The customer's cash balance ({available} {pi.currency}) does not cover"
                   f" this payment, and no payment_method_options[customer_balance]"
                   f"[funding_type] was given to collect the rest by bank transfer.",
        "payment_method": pm.serialize(ctx),
        "type": "invalid_request_error",
    }
    ctx.emit("payment_intent.payment_failed", pi)


# -- applying the cash balance ----------------------------------------------------------
def apply_cash(ctx: Ctx, pi: FundedPayment, customer: Customer, amount: int,
               pm: PaymentMethod) -> None:
    """Move ``amount`` of the customer's cash balance onto ``pi``: partly funded, or paid
    (the charge made and captured). The caller saves ``pi`` and ``customer``."""
    cash_balance.record(ctx, customer, pi.currency, -amount, "applied_to_payment",
                        {"payment_intent": pi.id})
    pi.cash_applied += amount
    if pi.cash_applied < pi.amount:
        ctx.emit("payment_intent.partially_funded", pi)
        return
    charge = charges.method_charge(
        ctx, charges.attempt_id(ctx, pi.id, pi.latest_charge), pi, pm.id, pm.billing_details,
        {"customer_balance": {}, "type": METHOD})
    charges.capture(ctx, charge, pi.amount)
    pi.latest_charge = charge.id
    pi.status, pi.amount_received = "succeeded", pi.amount
    save(ctx, charge)
    ctx.emit("charge.succeeded", charge)
    ctx.emit("payment_intent.succeeded", pi)


def stop_funding(ctx: Ctx, pi: FundedPayment) -> None:
    """Confirming with another payment method drops the bank transfer instructions and
    gives back what the cash balance had paid in."""
    release_cash(ctx, pi)
    pi.funding = None


def release_cash(ctx: Ctx, pi: FundedPayment) -> None:
    """A canceled PaymentIntent gives what it took back to the cash balance
    (``unapplied_from_payment``); the caller saves ``pi``."""
    if pi.cash_applied <= 0 or pi.customer is None:
        return
    customer = load(ctx, Customer, pi.customer, "customer")
    cash_balance.record(ctx, customer, pi.currency, pi.cash_applied, "unapplied_from_payment",
                        {"payment_intent": pi.id})
    pi.cash_applied = 0
    save(ctx, customer)
