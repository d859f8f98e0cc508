"""Where the fraud rules' decisions apply (docs/design.md, "Fraud"): when a checkout
starts, a block refuses it; when Stripe's payment is recorded, review holds the order
for an admin and block holds it and marks it for refund. Each verdict is stored with
every rule's answer and audited in the transaction that acts on it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from simulator.service.adapters.fraud_signals import FraudSignals
from simulator.service.domain.audit import STRIPE
from simulator.service.domain.fraud import CheckoutSignals, PaymentFacts, Verdict
from simulator.service.payments.context import PaymentContext
from simulator.service.payments.errors import PaymentRefused

if TYPE_CHECKING:
    from simulator.service.domain.auction import AuctionWin
    from simulator.service.domain.transaction import Transaction

CHECKOUT_BLOCKED = ("We cannot start this payment right now. Please contact us and we"
                    " will help you complete it.")
# Audit entries of verdicts: the subject id is the win (checkout) or transaction (payment).
AUDIT_SUBJECT = "fraud_verdict"
REFUND_DUE = "fraud_block_refund_due"  # the review flag of a payment a rule blocked


def fraud_records(ctx: PaymentContext) -> FraudSignals:
    return ctx.repo.fraud_signals


def screen_checkout(ctx: PaymentContext, win: AuctionWin, signals: CheckoutSignals,
                    actor: str) -> None:
    """The rules that need no payment, before a new attempt is made. The verdict is
    committed before a block is raised, so a refused checkout leaves its trace."""
    records = fraud_records(ctx)
    with ctx.repo.transaction():
        now = ctx.clock.timestamp()
        facts = records.checkout_facts(ctx.fraud.policy, win.buyer_id, signals, now)
        verdict = ctx.fraud.at_checkout(facts)
        records.record_verdict("checkout", "win", win.id, verdict, now)
        ctx.audit(actor, f"fraud.checkout_{verdict.decision}", AUDIT_SUBJECT, win.id, None,
                  summary(verdict))
        if verdict.decision == "block":
            ctx.alert("review_needed", "warning", f"Checkout for lot {win.lot} refused by"
                      f" the fraud rules: {verdict.reasons}", subject_id=win.id)
    if verdict.decision == "block":
        raise PaymentRefused("fraud_blocked", 403, CHECKOUT_BLOCKED)


def record_checkout_signals(ctx: PaymentContext, payment_session_id: str, win: AuctionWin,
                            signals: CheckoutSignals) -> None:
    """Joins the caller's transaction (the one creating the payment session)."""
    fraud_records(ctx).record_checkout(payment_session_id, win.buyer_id, win.id, signals,
                                       ctx.clock.timestamp())


def screen_payment(ctx: PaymentContext, txn: Transaction, win: AuctionWin,
                   card_fingerprint: str | None) -> Verdict:
    """The rules on the paid charge, inside the transaction recording the payment.
    Other payments count only if recorded before this checkout started, so the verdict
    does not depend on the order Stripe's events arrive in."""
    records = fraud_records(ctx)
    now = ctx.clock.timestamp()
    started = ctx.session(txn.payment_session_id).created_at
    buyer = ctx.repo.get_user(win.buyer_id)
    failed = sum(1 for s in ctx.repo.sessions_for_win(win.id) if s.status == "failed")
    card_payments, card_buyers = (records.card_counts(ctx.fraud.policy, card_fingerprint,
                                                      win.buyer_id, started)
                                  if card_fingerprint else (0, 0))
    verdict = ctx.fraud.on_payment(PaymentFacts(
        amount=txn.amount, currency=txn.currency,
        three_d_secure_result=txn.three_d_secure_result, risk_level=txn.risk_level,
        failed_attempts=failed, card_country=txn.card_country,
        buyer_country=buyer.country if buyer else None, card_fingerprint=card_fingerprint,
        card_payments_day=card_payments, card_buyers=card_buyers,
        paid_amounts=records.paid_amounts(win.buyer_id, txn.currency, started)))
    if card_fingerprint:
        records.record_card(txn.id, win.buyer_id, card_fingerprint, now)
    records.record_verdict("payment", "transaction", txn.id, verdict, now)
    ctx.audit(STRIPE, f"fraud.payment_{verdict.decision}", AUDIT_SUBJECT, txn.id, None,
              summary(verdict))
    if verdict.decision == "block":
        ctx.alert("review_needed", "critical", f"Payment {txn.id} for lot {win.lot} blocked"
                  f" by the fraud rules and held; refund it: {verdict.reasons}",
                  subject_id=txn.id, quiet=0)
    elif verdict.decision == "review":
        ctx.alert("review_needed", "warning", f"Payment {txn.id} for lot {win.lot} needs"
                  f" review: {verdict.reasons}", subject_id=txn.id, quiet=0)
    return verdict


def review_codes(verdict: Verdict) -> tuple[str, ...]:
    """The transaction's review flags: the rules' codes, and a block's refund mark."""
    return verdict.codes + ((REFUND_DUE,) if verdict.decision == "block" else ())


def summary(verdict: Verdict) -> dict[str, Any]:
    return {"decision": verdict.decision,
            "findings": [{"rule": r.rule, "decision": r.decision, "code": r.code,
                          "reason": r.reason} for r in verdict.findings]}
