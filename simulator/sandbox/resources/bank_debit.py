"""Starting a bank debit (``sepa_debit``, ``us_bank_account``): a confirmed PaymentIntent
goes ``processing`` with a ``pending`` charge (``payment_intent.processing``,
``charge.pending``), and a job settles it on the sandbox clock
(``flows/bank_settlement.py``), as the bank answers days later on Stripe
(https://docs.stripe.com/payments/payment-methods#payment-notification)."""

from __future__ import annotations

from typing import Any, Protocol

from simulator.sandbox import bank_accounts, jobs
from simulator.sandbox.errors import InvalidRequestError
from simulator.sandbox.resources import charge as charges
from simulator.sandbox.resources.base import Ctx, save
from simulator.sandbox.resources.payment_method import PaymentMethod, check_type_allowed

SETTLE_JOB = "bank_debit.settle"


class DebitedPayment(charges.ChargedPayment, Protocol):
    """What starting a debit reads and changes on the PaymentIntent."""

    status: Any
    payment_method: str | None
    latest_charge: str | None
    last_payment_error: dict[str, Any] | None
    payment_method_types: list[str]
    automatic_payment_methods: dict[str, Any] | None

    @property
    def metadata(self) -> dict[str, str]: ...

    def serialize(self, ctx: Ctx) -> dict[str, Any]: ...


def start_debit(ctx: Ctx, pi: DebitedPayment, pm: PaymentMethod, charge_id: str) -> None:
    """``pi`` (confirmed with the bank account ``pm``) is processing; the caller saves
    ``pi`` and ``pm``."""
    method = str(pm.type)
    currency = bank_accounts.CURRENCY[method]
    if pi.currency != currency:
        raise InvalidRequestError(
            f"The currency provided ({pi.currency}) is invalid. Payments with {method} support"
            f" the following currencies: {currency}.", param="currency")
    check_type_allowed(method, pi.payment_method_types, pi.automatic_payment_methods)
    charge = charges.method_charge(
        ctx, charge_id, pi, pm.id, pm.billing_details,
        {"type": method, method: _charge_details(method, pm.bank or {})}, status="pending")
    pi.payment_method, pi.latest_charge, pi.last_payment_error = pm.id, charge.id, None
    pi.status = "processing"
    if pm.customer is None:
        pm.consumed = pi.customer is None
    save(ctx, charge)
    ctx.emit("charge.pending", charge)
    ctx.emit("payment_intent.processing", pi)
    outcome = bank_accounts.outcome_for(method, pm.bank or {})
    jobs.schedule(ctx, SETTLE_JOB, charge.id, ctx.now + outcome.after_seconds)


def _charge_details(method: str, bank: dict[str, Any]) -> dict[str, Any]:
    if method == "sepa_debit":
        return {key: bank.get(key) for key in ("bank_code", "branch_code", "country",
                                               "fingerprint", "last4")} | {"mandate": None}
    return {key: bank.get(key) for key in ("account_holder_type", "account_type", "bank_name",
                                           "fingerprint", "last4", "routing_number")} | {
        "mandate": None, "payment_reference": None}

