"""Chargebacks: what the service does when a buyer disputes a payment with their bank
(``charge.dispute.*``, https://docs.stripe.com/disputes/how-disputes-work).

Every report is recorded against the payment's transaction, newest state wins; a new
dispute and a lost one raise a critical alert (forwarded to the alert webhook) so a human
answers before ``evidence_due_by``; each change is audited. The order keeps its status:
the lot was paid for and may have shipped, and whether the money comes back is the
dispute's own state, shown beside the order."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from simulator.service.domain.audit import STRIPE
from simulator.service.domain.dispute import Dispute, dispute_from_stripe
from simulator.service.domain.money import format_money
from simulator.service.domain.payment_session import PaymentSession
from simulator.service.domain.transaction import Transaction
from simulator.service.payments.context import PaymentContext, log
from simulator.service.payments.outcomes import record_payment

DISPUTE_EVENTS = ("charge.dispute.created", "charge.dispute.updated", "charge.dispute.closed",
                  "charge.dispute.funds_withdrawn", "charge.dispute.funds_reinstated")


def record_dispute(ctx: PaymentContext, dispute: Mapping[str, Any]) -> None:
    """Keep Stripe's newest word on ``dispute``; a report older than the stored one is
    a late delivery and changes nothing."""
    txn = _transaction_of(ctx, dispute)
    if txn is None:
        return
    with ctx.repo.transaction():
        records = ctx.repo.disputes
        reported = dispute_from_stripe(dispute, txn.id, ctx.clock.timestamp())
        stored = records.get(reported.id)
        if stored is not None and not reported.newer_than(stored):
            return
        if stored is not None:
            reported = _keep_opening(reported, stored)
        records.save(reported)
        action = "dispute.opened" if stored is None else f"dispute.{reported.status}"
        ctx.audit(STRIPE, action, "dispute", reported.id,
                  stored.snapshot() if stored else None, reported.snapshot())
        _raise_alert(ctx, reported, txn, opened=stored is None)


def _keep_opening(reported: Dispute, stored: Dispute) -> Dispute:
    return replace(reported, opened_at=stored.opened_at)


def _utc(timestamp: int) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M UTC")


def _raise_alert(ctx: PaymentContext, dispute: Dispute, txn: Transaction, *,
                 opened: bool) -> None:
    amount = format_money(dispute.amount, dispute.currency)
    if opened:
        kind = "a chargeback" if dispute.is_chargeback else "an inquiry"
        due = f"; evidence due by {_utc(dispute.evidence_due_by)}" \
            if dispute.evidence_due_by else ""
        ctx.alert("dispute_opened", "critical",
                  f"Buyer opened {kind} ({dispute.reason}) on {amount} for win "
                  f"{txn.win_id}{due}.", subject_id=dispute.id, quiet=0)
    elif dispute.status == "lost":
        ctx.alert("dispute_lost", "critical",
                  f"Dispute {dispute.id} on {amount} for win {txn.win_id} was lost.",
                  subject_id=dispute.id, quiet=0)


def _transaction_of(ctx: PaymentContext, dispute: Mapping[str, Any]) -> Transaction | None:
    """Our transaction for the disputed charge. A dispute that overtook the payment's own
    events records the payment first (re-read from Stripe); one on a charge that is not
    ours is ignored."""
    intent = _object_id(dispute.get("payment_intent"))
    if intent is not None:
        txn = ctx.repo.transaction_by_payment_intent(intent)
        if txn is None and (session := _session_paid_by(ctx, intent)):
            record_payment(ctx, session, intent)
            txn = ctx.repo.transaction_by_payment_intent(intent)
        if txn is not None:
            return txn
    charge = _object_id(dispute.get("charge"))
    found = ctx.repo.disputes.transaction_id_for_charge(charge) if charge else None
    txn = ctx.repo.get_transaction(found) if found else None
    if txn is None:
        log.info("dispute %s is on a charge that is not ours; ignored", dispute.get("id"))
    return txn


def _session_paid_by(ctx: PaymentContext, intent: str) -> PaymentSession | None:
    """Ours by the PaymentIntent's id, else by the metadata Stripe keeps on it."""
    session = ctx.repo.session_by_payment_intent(intent)
    if session is None and intent.startswith("pi_"):
        details = ctx.gateway.payment_details(intent)
        if details.payment_session_id:
            session = ctx.repo.get_payment_session(details.payment_session_id)
    return session


def _object_id(value: Any) -> str | None:
    if isinstance(value, Mapping):
        return str(value["id"])
    return value if isinstance(value, str) else None
