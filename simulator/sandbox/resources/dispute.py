"""Disputes (https://docs.stripe.com/api/disputes): a cardholder asking their bank for
the money back, opened by the dispute test cards (https://docs.stripe.com/testing#disputes).

A charge made with one of those cards is disputed as soon as it is captured, in the same
request (``charge.dispute.created`` follows ``charge.succeeded``): a
chargeback (``needs_response``) withdraws the amount and the $15 dispute fee at once
(``charge.dispute.funds_withdrawn``); an inquiry (``warning_needs_response``) only asks.
Submitting evidence moves it under review; the test evidence texts decide the outcome
(https://docs.stripe.com/testing#evidence): ``winning_evidence`` wins it (funds
reinstated), ``losing_evidence`` loses it, ``escalate_inquiry_evidence`` turns an inquiry
into a chargeback. Closing a dispute accepts it (lost). Each change is an event.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from simulator.sandbox import jobs
from simulator.sandbox.errors import InvalidRequestError
from simulator.sandbox.params import Params, apply_metadata
from simulator.sandbox.resources import balance_transaction
from simulator.sandbox.resources.base import (
    Ctx,
    StripeObject,
    find,
    load,
    previous_attributes,
    save,
)
from simulator.sandbox.resources.charge import Charge

Status = Literal["warning_needs_response", "warning_under_review", "warning_closed",
                 "needs_response", "under_review", "won", "lost"]
CLOSED = ("warning_closed", "won", "lost")
RESOLVE_JOB = "dispute.resolve"
EVIDENCE_DUE_SECONDS = 7 * 24 * 3600
WINNING, LOSING, ESCALATE = "winning_evidence", "losing_evidence", "escalate_inquiry_evidence"
EVIDENCE_FIELDS = (
    "access_activity_log", "billing_address", "cancellation_policy",
    "cancellation_policy_disclosure", "cancellation_rebuttal", "customer_communication",
    "customer_email_address", "customer_name", "customer_purchase_ip", "customer_signature",
    "duplicate_charge_documentation", "duplicate_charge_explanation", "duplicate_charge_id",
    "product_description", "receipt", "refund_policy", "refund_policy_disclosure",
    "refund_refusal_explanation", "service_date", "service_documentation",
    "shipping_address", "shipping_carrier", "shipping_date", "shipping_documentation",
    "shipping_tracking_number", "uncategorized_file", "uncategorized_text",
)


@dataclass(frozen=True)
class DisputePlan:
    """What a dispute test card's dispute looks like when it opens."""

    reason: str
    status: Status
    network_reason_code: str
    enhanced_eligibility_types: tuple[str, ...] = ()


_FRAUD = DisputePlan("fraudulent", "needs_response", "10.4")
# By card number; the cards that only prevent a dispute when the account is enrolled in a
# prevention programme dispute here, as on an account that is not.
DISPUTE_CARDS: dict[str, DisputePlan] = {
    "4000000000000259": _FRAUD,
    "4000000000002685": DisputePlan("product_not_received", "needs_response", "13.1"),
    "4000000000001976": DisputePlan("general", "warning_needs_response", "10.4"),
    "4000000404000079": _FRAUD,
    "4000000404000038": DisputePlan("fraudulent", "needs_response", "10.4",
                                    ("visa_compelling_evidence_3",)),
    "4000008400000779": DisputePlan("noncompliant", "needs_response", "compliance"),
    "5105008400000002": DisputePlan("noncompliant", "needs_response", "compliance"),
    "4000000001000043": _FRAUD,
    "4000000404004816": _FRAUD,
    "4000000404005649": _FRAUD,
    "5105000300000018": _FRAUD,
}


@dataclass(kw_only=True)
class Dispute(StripeObject):
    OBJECT = "dispute"
    PREFIX = "dp"
    NOUN = "dispute"
    FILTERS = ("charge", "payment_intent")
    EXPANDABLE = frozenset({"charge", "payment_intent"})

    amount: int
    currency: str
    charge: str
    reason: str
    status: Status
    card_brand: str
    network_reason_code: str
    evidence_due_by: int
    payment_intent: str | None = None
    evidence: dict[str, str] = field(default_factory=dict)
    submission_count: int = 0
    balance_transaction_ids: list[str] = field(default_factory=list)
    enhanced_eligibility_types: list[str] = field(default_factory=list)
    metadata: dict[str, str] = field(default_factory=dict)

    @property
    def is_inquiry(self) -> bool:
        return self.status.startswith("warning_")

    @property
    def is_closed(self) -> bool:
        return self.status in CLOSED

    def serialize(self, ctx: Ctx) -> dict[str, Any]:
        return {
            "id": self.id,
            "object": "dispute",
            "amount": self.amount,
            "balance_transactions": [_balance_transaction(ctx, t)
                                     for t in self.balance_transaction_ids],
            "charge": self.charge,
            "created": self.created,
            "currency": self.currency,
            "enhanced_eligibility_types": list(self.enhanced_eligibility_types),
            "evidence": {name: self.evidence.get(name) for name in EVIDENCE_FIELDS}
            | {"enhanced_evidence": {}},
            "evidence_details": {
                "due_by": None if self.is_closed else self.evidence_due_by,
                "enhanced_eligibility": {},
                "has_evidence": bool(self.evidence),
                "past_due": not self.is_closed and ctx.now > self.evidence_due_by,
                "submission_count": self.submission_count,
            },
            "is_charge_refundable": self.is_inquiry and not self.is_closed,
            "livemode": False,
            "metadata": dict(self.metadata),
            "payment_intent": self.payment_intent,
            "payment_method_details": {
                "card": {"brand": self.card_brand,
                         "case_type": "inquiry" if self.is_inquiry else "chargeback",
                         "network_reason_code": self.network_reason_code},
                "type": "card",
            },
            "reason": self.reason,
            "status": self.status,
        }


def _balance_transaction(ctx: Ctx, transaction_id: str) -> dict[str, Any] | None:
    found = find(ctx, balance_transaction.BalanceTransaction, transaction_id)
    return found.serialize(ctx) if found else None


# -- opening ----------------------------------------------------------------------------
def dispute_plan(charge: Charge) -> DisputePlan | None:
    profile = charge.profile()
    return DISPUTE_CARDS.get(profile.number) if profile is not None else None


def open_dispute(ctx: Ctx, charge: Charge) -> Dispute | None:
    """Called once a charge is captured (and saved): a dispute test card's charge is
    disputed at once, as on Stripe, where the dispute is there to list as soon as the
    payment's request returns (the Stripe CLI's dispute fixtures list it next)."""
    plan = dispute_plan(charge)
    if plan is None or charge.disputed:
        return None
    dispute = Dispute(
        id=ctx.ids.new("dp"), created=ctx.now, amount=charge.amount_captured or charge.amount,
        currency=charge.currency, charge=charge.id, payment_intent=charge.payment_intent,
        reason=plan.reason, status=plan.status, card_brand=str(charge.card.get("brand")),
        network_reason_code=plan.network_reason_code,
        evidence_due_by=ctx.now + EVIDENCE_DUE_SECONDS,
        enhanced_eligibility_types=list(plan.enhanced_eligibility_types))
    before = charge.serialize(ctx)
    charge.disputed = True
    save(ctx, charge)
    ctx.emit("charge.updated", charge, previous_attributes(before, charge.serialize(ctx)))
    if not dispute.is_inquiry:
        _withdraw(ctx, dispute)
    save(ctx, dispute)
    ctx.emit("charge.dispute.created", dispute)
    if not dispute.is_inquiry:
        ctx.emit("charge.dispute.funds_withdrawn", dispute)
    return dispute


def _withdraw(ctx: Ctx, dispute: Dispute) -> None:
    moved = balance_transaction.record_dispute_funds(
        ctx, dispute_id=dispute.id, amount=dispute.amount, currency=dispute.currency)
    dispute.balance_transaction_ids.append(moved.id)


# -- operations -------------------------------------------------------------------------
def retrieve_dispute(ctx: Ctx, dispute_id: str) -> Dispute:
    return load(ctx, Dispute, dispute_id)


@dataclass(frozen=True)
class DisputeUpdate:
    """Evidence to stage (the fields given), submitted unless ``submit`` is false."""

    evidence: dict[str, str] = field(default_factory=dict)
    submit: bool = True
    metadata: dict[str, str] | None = None

    @classmethod
    def from_params(cls, params: Params) -> DisputeUpdate:
        evidence = params.hash("evidence")
        staged = {name: value for name in EVIDENCE_FIELDS
                  if evidence is not None and (value := evidence.string(name)) is not None}
        if evidence is not None:
            evidence.string("enhanced_evidence")  # accepted, not modelled
            evidence.finish()
        request = cls(staged, params.boolean("submit") is not False, params.metadata())
        params.finish()
        return request


def update_dispute(ctx: Ctx, dispute_id: str, request: DisputeUpdate) -> Dispute:
    """Stage or submit evidence (``submit`` defaults to true, as on Stripe)."""
    dispute = load(ctx, Dispute, dispute_id)
    before = dispute.serialize(ctx)
    dispute.metadata = apply_metadata(dispute.metadata, request.metadata)
    if dispute.is_closed:
        raise InvalidRequestError(
            f"This dispute ({dispute.id}) is already closed and can no longer be updated.")
    dispute.evidence.update(request.evidence)
    if request.submit and (request.evidence or dispute.evidence):
        _submit(ctx, dispute)
    save(ctx, dispute)
    ctx.emit("charge.dispute.updated", dispute, previous_attributes(before, dispute.serialize(ctx)))
    return dispute


def _submit(ctx: Ctx, dispute: Dispute) -> None:
    dispute.submission_count += 1
    dispute.status = "warning_under_review" if dispute.is_inquiry else "under_review"
    if dispute.evidence.get("uncategorized_text") in (WINNING, LOSING, ESCALATE):
        jobs.schedule(ctx, RESOLVE_JOB, dispute.id, ctx.now)


def close_dispute(ctx: Ctx, dispute_id: str) -> Dispute:
    """Accept the dispute: a chargeback is lost, an inquiry simply closes."""
    dispute = load(ctx, Dispute, dispute_id)
    if dispute.is_closed:
        raise InvalidRequestError(
            f"This dispute ({dispute.id}) is already closed.")
    before = dispute.serialize(ctx)
    dispute.status = "warning_closed" if dispute.is_inquiry else "lost"
    save(ctx, dispute)
    ctx.emit("charge.dispute.closed", dispute, previous_attributes(before, dispute.serialize(ctx)))
    return dispute


def resolve_dispute(ctx: Ctx, dispute_id: str) -> None:
    """The issuer's answer to the test evidence."""
    dispute = find(ctx, Dispute, dispute_id)
    if dispute is None or dispute.is_closed:
        return
    before = dispute.serialize(ctx)
    text = dispute.evidence.get("uncategorized_text")
    if text == ESCALATE and dispute.is_inquiry:
        dispute.status = "needs_response"
        dispute.evidence_due_by = ctx.now + EVIDENCE_DUE_SECONDS
        _withdraw(ctx, dispute)
        save(ctx, dispute)
        ctx.emit("charge.dispute.updated", dispute,
                 previous_attributes(before, dispute.serialize(ctx)))
        ctx.emit("charge.dispute.funds_withdrawn", dispute)
        return
    won = text == WINNING
    if dispute.is_inquiry:
        dispute.status = "warning_closed"
    else:
        dispute.status = "won" if won else "lost"
    if dispute.status == "won":
        reinstated = balance_transaction.record_dispute_funds(
            ctx, dispute_id=dispute.id, amount=dispute.amount, currency=dispute.currency,
            reinstated=True)
        dispute.balance_transaction_ids.append(reinstated.id)
    save(ctx, dispute)
    ctx.emit("charge.dispute.closed", dispute, previous_attributes(before, dispute.serialize(ctx)))
    if dispute.status == "won":
        ctx.emit("charge.dispute.funds_reinstated", dispute)
