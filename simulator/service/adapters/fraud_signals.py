"""Fraud signals and decisions in the service's database: what was seen when each
checkout started (buyer, IP address, network, device), the card fingerprint of each
payment, and every rule's decision, for the counts the rules need and for the admin.

The ``fraud_*`` tables are declared with the rest of the schema (``storage/schema.py``);
reads and writes go through the store's connection, so every write joins the caller's
transaction."""

from __future__ import annotations

from simulator.service.adapters.storage.store import Store
from simulator.service.domain.fraud import (
    CheckoutFacts,
    CheckoutSignals,
    FraudPolicy,
    RuleResult,
    Verdict,
)


class FraudSignals:
    """Reads and writes of the ``fraud_*`` tables."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def clear(self) -> int:
        """Every signal and decision (test mode's reset): the counts the rules read start
        from nothing again, as the wins and payments they were about do."""
        with self.store.transaction() as conn:
            return sum(conn.execute(f"DELETE FROM {table}").rowcount for table in
                       ("fraud_checkout_signals", "fraud_card_uses", "fraud_decisions"))

    # -- checkouts ---------------------------------------------------------------------
    def record_checkout(self, payment_session_id: str, buyer_id: str, win_id: str,
                        signals: CheckoutSignals, at: int) -> None:
        self.store.connection().execute(
            "INSERT INTO fraud_checkout_signals (payment_session_id, buyer_id, win_id, ip,"
            " network, device, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT(payment_session_id) DO NOTHING",
            (payment_session_id, buyer_id, win_id, signals.ip, signals.network,
             signals.device, at))

    def checkout_facts(self, policy: FraudPolicy, buyer_id: str, signals: CheckoutSignals,
                       now: int) -> CheckoutFacts:
        """Counts over the policy's windows, each including the checkout asked for."""
        hour, day = now - policy.window_hour, now - policy.window_day
        ip = None if policy.trusts(signals.ip) else signals.ip
        network = None if policy.trusts(signals.ip) else signals.network
        return CheckoutFacts(
            buyer_checkouts_hour=self._checkouts("buyer_id", buyer_id, hour) + 1,
            buyer_checkouts_day=self._checkouts("buyer_id", buyer_id, day) + 1,
            buyer_failures_day=self._count(
                "SELECT COUNT(*) FROM payment_sessions WHERE buyer_id = ? AND status ="
                " 'failed' AND updated_at >= ?", buyer_id, day),
            ip_checkouts_hour=self._checkouts("ip", ip, hour) + 1 if ip else 0,
            ip_failures_day=self._count(
                "SELECT COUNT(*) FROM payment_sessions s JOIN fraud_checkout_signals f ON"
                " f.payment_session_id = s.id WHERE f.ip = ? AND s.status = 'failed' AND"
                " s.updated_at >= ?", ip, day) if ip else 0,
            device_buyers_day=self._buyers("device", signals.device, buyer_id, day),
            network_buyers_day=self._buyers("network", network, buyer_id, day),
        )

    def _checkouts(self, column: str, value: str | None, since: int) -> int:
        return self._count(f"SELECT COUNT(*) FROM fraud_checkout_signals WHERE {column} = ?"
                           " AND created_at >= ?", value, since)

    def _buyers(self, column: str, value: str | None, buyer_id: str, since: int) -> int:
        """Different buyers on this device or network, this one included."""
        if not value:
            return 0
        others = self._count(f"SELECT COUNT(DISTINCT buyer_id) FROM fraud_checkout_signals"
                             f" WHERE {column} = ? AND created_at >= ? AND buyer_id != ?",
                             value, since, buyer_id)
        return others + 1

    # -- payments ----------------------------------------------------------------------
    def record_card(self, transaction_id: str, buyer_id: str, fingerprint: str,
                    at: int) -> None:
        self.store.connection().execute(
            "INSERT INTO fraud_card_uses (transaction_id, buyer_id, fingerprint, created_at)"
            " VALUES (?, ?, ?, ?) ON CONFLICT(transaction_id) DO NOTHING",
            (transaction_id, buyer_id, fingerprint, at))

    def card_counts(self, policy: FraudPolicy, fingerprint: str, buyer_id: str,
                    before: int) -> tuple[int, int]:
        """Payments with the card and different buyers who used it, in the day before
        ``before``, both including the payment being recorded."""
        since = before - policy.window_day
        payments = self._count("SELECT COUNT(*) FROM fraud_card_uses WHERE fingerprint = ?"
                               " AND created_at >= ? AND created_at < ?", fingerprint,
                               since, before)
        others = self._count("SELECT COUNT(DISTINCT buyer_id) FROM fraud_card_uses WHERE"
                             " fingerprint = ? AND buyer_id != ? AND created_at >= ? AND"
                             " created_at < ?", fingerprint, buyer_id, since, before)
        return payments + 1, others + 1

    def paid_amounts(self, buyer_id: str, currency: str, before: int) -> tuple[int, ...]:
        """The buyer's orders paid (or since refunded) in this currency before ``before``."""
        rows = self.store._all_rows(
            "SELECT t.amount FROM orders o JOIN transactions t ON t.id = o.transaction_id"
            " WHERE o.buyer_id = ? AND t.currency = ? AND t.created_at < ? AND o.status IN"
            " ('paid', 'refunded')", buyer_id, currency, before)
        return tuple(int(row[0]) for row in rows)

    # -- decisions ---------------------------------------------------------------------
    def record_verdict(self, stage: str, subject_type: str, subject_id: str,
                       verdict: Verdict, at: int) -> None:
        self.store.connection().executemany(
            "INSERT INTO fraud_decisions (stage, subject_type, subject_id, rule, decision,"
            " code, reason, verdict, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(stage, subject_type, subject_id, r.rule, r.decision, r.code, r.reason,
              verdict.decision, at) for r in verdict.results])

    def decisions_for(self, subject_type: str, subject_id: str) -> list[RuleResult]:
        """Each rule's latest answer about the subject, strictest first."""
        rows = self.store._all_rows(
            "SELECT rule, decision, code, reason FROM fraud_decisions WHERE subject_type = ?"
            " AND subject_id = ? AND created_at = (SELECT MAX(created_at) FROM"
            " fraud_decisions WHERE subject_type = ? AND subject_id = ?) ORDER BY CASE"
            " decision WHEN 'block' THEN 0 WHEN 'review' THEN 1 ELSE 2 END, id",
            subject_type, subject_id, subject_type, subject_id)
        return [RuleResult(str(r[0]), r[1], str(r[2]), str(r[3])) for r in rows]

    def _count(self, sql: str, *params: object) -> int:
        row = self.store._one(sql, *params)
        return int(row[0]) if row is not None else 0


def verdict_counts(store: Store) -> list[tuple[str, str, int]]:
    """(stage, decision, count) of combined verdicts, for the metrics."""
    rows = store._all_rows(
        "SELECT stage, verdict, COUNT(DISTINCT subject_type || ':' || subject_id || ':'"
        " || created_at) FROM fraud_decisions GROUP BY 1, 2")
    return [(str(r[0]), str(r[1]), int(r[2])) for r in rows]
