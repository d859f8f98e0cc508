"""Refunds (https://docs.stripe.com/api/refunds) of captured card charges.

A refund returns all or part of what is left of a charge; asking for more is refused with
``amount_too_large`` and refunding a fully refunded charge with ``charge_already_refunded``.
Card refunds succeed at once, except with two test cards
(https://docs.stripe.com/testing#refunds): ``pm_card_pendingRefund`` starts ``pending``
and later succeeds (``refund.updated``), ``pm_card_refundFail`` succeeds and later fails
(``refund.failed``), putting the money back on the charge. Both later steps are jobs
run when the sandbox clock passes their due time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from simulator.sandbox import cards, jobs
from simulator.sandbox.errors import InvalidRequestError, NotFoundError, resource_missing
from simulator.sandbox.params import Params, apply_metadata
from simulator.sandbox.resources import balance_transaction
from simulator.sandbox.resources.balance_transaction import format_amount
from simulator.sandbox.resources.base import (
    Ctx,
    StripeObject,
    find,
    load,
    previous_attributes,
    save,
)
from simulator.sandbox.resources.charge import Charge

Status = Literal["pending", "requires_action", "succeeded", "failed", "canceled"]
REASONS = ("duplicate", "fraudulent", "requested_by_customer")
PENDING_REFUND_SECONDS = 120
REFUND_FAILURE_SECONDS = 120
SETTLE_JOB = "refund.settle_pending"
FAIL_JOB = "refund.fail"


@dataclass(kw_only=True)
class Refund(StripeObject):
    OBJECT = "refund"
    PREFIX = "re"
    NOUN = "refund"
    FILTERS = ("charge", "payment_intent")
    EXPANDABLE = frozenset(
        {"balance_transaction", "charge", "failure_balance_transaction", "payment_intent"}
    )

    amount: int
    currency: str
    charge: str
    status: Status
    payment_intent: str | None = None
    customer: str | None = None
    payment_method: str | None = None
    reason: str | None = None
    balance_transaction: str | None = None
    failure_balance_transaction: str | None = None
    failure_reason: str | None = None
    reference: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)

    def destination_details(self) -> dict[str, Any]:
        settled = self.status in ("succeeded", "failed")
        return {
            "card": {
                "reference": self.reference if settled else None,
                "reference_status": "available" if settled else "pending",
                "reference_type": "acquirer_reference_number",
                "type": "refund",
            },
            "type": "card",
        }

    def serialize(self, ctx: Ctx) -> dict[str, Any]:
        data = {
            "id": self.id,
            "object": "refund",
            "amount": self.amount,
            "balance_transaction": self.balance_transaction,
            "charge": self.charge,
            "created": self.created,
            "currency": self.currency,
            "destination_details": self.destination_details(),
            "metadata": dict(self.metadata),
            "payment_intent": self.payment_intent,
            "reason": self.reason,
            "receipt_number": None,
            "source_transfer_reversal": None,
            "status": self.status,
            "transfer_reversal": None,
            "customer": self.customer,
            "customer_account": None,
            "payment_method": self.payment_method,
        }
        if self.status == "failed":
            data["failure_balance_transaction"] = self.failure_balance_transaction
            data["failure_reason"] = self.failure_reason
        return data


# -- creating ---------------------------------------------------------------------------
@dataclass(frozen=True)
class RefundCreate:
    """A refund of ``charge`` or of ``payment_intent``'s charge (at least one of them);
    ``amount`` defaults to everything left."""

    charge: str | None = None
    payment_intent: str | None = None
    amount: int | None = None
    reason: str | None = None  # one of REASONS
    metadata: dict[str, str] | None = None

    @classmethod
    def from_params(cls, params: Params) -> RefundCreate:
        request = cls(charge=params.string("charge"),
                      payment_intent=params.string("payment_intent"),
                      amount=params.integer("amount", minimum=1),
                      reason=params.enum("reason", REASONS), metadata=params.metadata())
        for ignored in ("refund_application_fee", "reverse_transfer", "instructions_email",
                        "origin"):
            params.raw(ignored)
        params.finish()
        return request


def create_refund(ctx: Ctx, request: RefundCreate) -> Refund:
    metadata = apply_metadata({}, request.metadata)
    charge = _charge_to_refund(ctx, request.charge, request.payment_intent)
    return refund_charge(ctx, charge, request.amount, request.reason, metadata)


def _charge_to_refund(ctx: Ctx, charge_id: str | None, pi_id: str | None) -> Charge:
    if charge_id is None and pi_id is None:
        raise InvalidRequestError(
            "One of the following parameters is required: charge, payment_intent."
        )
    if pi_id is not None:
        charge = _charge_of_payment_intent(ctx, pi_id)
        if charge_id is not None and charge_id != charge.id:
            raise InvalidRequestError(
                f"Charge {charge_id} does not belong to PaymentIntent {pi_id}.", param="charge"
            )
    else:
        assert charge_id is not None
        charge = load(ctx, Charge, charge_id, "charge")
    _check_refundable(charge)
    return charge


def _charge_of_payment_intent(ctx: Ctx, pi_id: str) -> Charge:
    # The PaymentIntent is read by id for its latest charge; refunds never import it.
    row = ctx.store.get(pi_id, "payment_intent") if isinstance(pi_id, str) else None
    if row is None:
        raise resource_missing("payment_intent", str(pi_id), "payment_intent")
    latest_charge = row.data.get("latest_charge")
    charge = find(ctx, Charge, latest_charge) if latest_charge else None
    if charge is None or not charge.paid or not charge.captured:
        raise InvalidRequestError(
            f"This PaymentIntent ({pi_id}) does not have a successful charge to refund.",
            param="payment_intent",
        )
    return charge


def _check_refundable(charge: Charge) -> None:
    if not charge.paid:
        raise InvalidRequestError(
            f"Charge {charge.id} has failed, so there is nothing to refund.", param="charge"
        )
    if not charge.captured:
        raise InvalidRequestError(
            f"Charge {charge.id} has not been captured. Cancel its PaymentIntent to release"
            " the authorization instead.",
            param="charge",
        )
    if charge.refunded:
        raise InvalidRequestError(
            f"Charge {charge.id} has already been refunded.", code="charge_already_refunded"
        )


def refund_charge(
    ctx: Ctx, charge: Charge, amount: int | None, reason: str | None, metadata: dict[str, str]
) -> Refund:
    """Refund ``amount`` (default: everything left) of a captured charge."""
    amount = charge.unrefunded if amount is None else amount
    if amount > charge.unrefunded:
        raise InvalidRequestError(
            f"Refund amount ({format_amount(amount, charge.currency)}) is greater than"
            f" unrefunded amount on charge ({format_amount(charge.unrefunded, charge.currency)})",
            code="amount_too_large",
            param="amount",
        )
    behaviour = _behaviour(charge)
    refund = _new_refund(ctx, charge, amount, reason, metadata, behaviour)
    before = charge.serialize(ctx)
    charge.amount_refunded += amount
    charge.refund_ids.append(refund.id)
    save(ctx, refund)
    save(ctx, charge)
    ctx.emit("charge.refunded", charge, previous_attributes(before, charge.serialize(ctx)))
    ctx.emit("refund.created", refund)
    _schedule_follow_up(ctx, refund, behaviour)
    return refund


def _behaviour(charge: Charge) -> cards.Behaviour:
    profile = charge.profile()
    return profile.behaviour if profile is not None else cards.Behaviour.SUCCESS


def _new_refund(
    ctx: Ctx,
    charge: Charge,
    amount: int,
    reason: str | None,
    metadata: dict[str, str],
    behaviour: cards.Behaviour,
) -> Refund:
    refund_id = f"re_{ctx.ids.sortable(24)}"
    transaction = balance_transaction.record_refund(
        ctx, refund_id=refund_id, amount=amount, currency=charge.currency
    )
    return Refund(
        id=refund_id,
        created=ctx.now,
        amount=amount,
        currency=charge.currency,
        charge=charge.id,
        status="pending" if behaviour is cards.Behaviour.PENDING_REFUND else "succeeded",
        payment_intent=charge.payment_intent,
        customer=charge.customer,
        payment_method=charge.payment_method,
        reason=reason,
        balance_transaction=transaction.id,
        reference=f"{int(ctx.ids.hex(10), 16):025d}"[:23],  # an ARN

        metadata=metadata,
    )


def _schedule_follow_up(ctx: Ctx, refund: Refund, behaviour: cards.Behaviour) -> None:
    if behaviour is cards.Behaviour.PENDING_REFUND:
        jobs.schedule(ctx, SETTLE_JOB, refund.id, ctx.now + PENDING_REFUND_SECONDS)
    elif behaviour is cards.Behaviour.REFUND_FAILS:
        jobs.schedule(ctx, FAIL_JOB, refund.id, ctx.now + REFUND_FAILURE_SECONDS)


# -- what happens later -----------------------------------------------------------------
def _emit_refund_change(ctx: Ctx, refund: Refund, before: dict[str, Any]) -> None:
    changed = previous_attributes(before, refund.serialize(ctx))
    ctx.emit("refund.updated", refund, changed)
    ctx.emit("charge.refund.updated", refund, changed)


def settle_pending_refund(ctx: Ctx, refund_id: str) -> None:
    refund = find(ctx, Refund, refund_id)
    if refund is None or refund.status != "pending":
        return
    before = refund.serialize(ctx)
    refund.status = "succeeded"
    save(ctx, refund)
    _emit_refund_change(ctx, refund, before)


def fail_refund(ctx: Ctx, refund_id: str) -> None:
    """The issuer rejects the refund: the money returns to the balance and the charge."""
    refund = find(ctx, Refund, refund_id)
    if refund is None or refund.status != "succeeded":
        return
    before = refund.serialize(ctx)
    transaction = balance_transaction.record_refund(
        ctx, refund_id=refund.id, amount=refund.amount, currency=refund.currency, failed=True
    )
    refund.status = "failed"
    refund.failure_reason = "declined"
    refund.failure_balance_transaction = transaction.id
    save(ctx, refund)
    charge = find(ctx, Charge, refund.charge)
    if charge is not None:
        charge.amount_refunded -= refund.amount
        save(ctx, charge)
    ctx.emit("refund.failed", refund)
    _emit_refund_change(ctx, refund, before)


# -- reading and updating ---------------------------------------------------------------
def retrieve_refund(ctx: Ctx, refund_id: str) -> Refund:
    return load(ctx, Refund, refund_id)


@dataclass(frozen=True)
class RefundUpdate:
    metadata: dict[str, str] | None = None

    @classmethod
    def from_params(cls, params: Params) -> RefundUpdate:
        request = cls(params.metadata())
        params.finish()
        return request


def update_refund(ctx: Ctx, refund_id: str, request: RefundUpdate) -> Refund:
    refund = load(ctx, Refund, refund_id)
    before = refund.serialize(ctx)
    refund.metadata = apply_metadata(refund.metadata, request.metadata)
    save(ctx, refund)
    if refund.serialize(ctx) != before:
        _emit_refund_change(ctx, refund, before)
    return refund


def charge_refund(ctx: Ctx, charge_id: str, refund_id: str) -> Refund:
    """``GET /v1/charges/{charge}/refunds/{refund}``."""
    refund = load(ctx, Refund, refund_id)
    if refund.charge != charge_id:
        raise NotFoundError(f"No such refund: '{refund_id}'", code="resource_missing", param="id")
    return refund
