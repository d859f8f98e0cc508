"""Won lots and their payment: Checkout attempts (payment sessions), the transactions
Stripe confirmed, and the orders they paid for."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import asdict, replace
from typing import Any

from simulator.service.adapters.storage.store import Conflict, Store
from simulator.service.domain.auction import AuctionWin
from simulator.service.domain.card_numbers import mask_card_numbers
from simulator.service.domain.order import Order
from simulator.service.domain.payment_session import PaymentSession
from simulator.service.domain.transaction import Transaction


class PaymentRecords(Store):
    """Wins, payment sessions, transactions and orders."""

    # -- wins ----------------------------------------------------------------------------
    def add_win(self, win: AuctionWin) -> None:
        self._insert("wins", asdict(replace(win, title=mask_card_numbers(win.title))))

    def get_win(self, win_id: str) -> AuctionWin | None:
        row = self._one("SELECT * FROM wins WHERE id = ?", win_id)
        return AuctionWin(**dict(row)) if row else None

    def wins_for_buyer(self, buyer_id: str) -> list[AuctionWin]:
        rows = self._all_rows(
            "SELECT * FROM wins WHERE buyer_id = ? ORDER BY ended_at DESC", buyer_id)
        return [AuctionWin(**dict(row)) for row in rows]

    def list_wins(self) -> list[AuctionWin]:
        rows = self._all_rows("SELECT * FROM wins ORDER BY ended_at DESC")
        return [AuctionWin(**dict(row)) for row in rows]

    # -- payment sessions ----------------------------------------------------------------
    def add_payment_session(self, session: PaymentSession) -> None:
        """Raises ``Conflict`` when the win already has a live session (or the attempt
        number is taken): the caller re-reads and returns that one."""
        self._insert("payment_sessions", _session_row(session))

    def save_payment_session(self, session: PaymentSession) -> None:
        try:
            self._update("payment_sessions", "id", _session_row(session))
        except sqlite3.IntegrityError as error:
            raise Conflict(f"payment_sessions: {error}") from error

    def get_payment_session(self, session_id: str) -> PaymentSession | None:
        return _session(self._one("SELECT * FROM payment_sessions WHERE id = ?", session_id))

    def session_by_checkout_id(self, checkout_session_id: str) -> PaymentSession | None:
        return _session(self._one(
            "SELECT * FROM payment_sessions WHERE checkout_session_id = ?", checkout_session_id))

    def session_by_payment_intent(self, payment_intent_id: str) -> PaymentSession | None:
        return _session(self._one(
            "SELECT * FROM payment_sessions WHERE payment_intent_id = ?"
            " ORDER BY attempt DESC LIMIT 1", payment_intent_id))

    def sessions_for_win(self, win_id: str) -> list[PaymentSession]:
        rows = self._all_rows(
            "SELECT * FROM payment_sessions WHERE win_id = ? ORDER BY attempt", win_id)
        return [PaymentSession(**dict(row)) for row in rows]

    def sessions_at_stripe(self, statuses: tuple[str, ...],
                           limit: int = 1000) -> list[PaymentSession]:
        """Sessions with a Checkout Session in one of ``statuses``, least recently
        updated first (what reconciliation asks Stripe about)."""
        marks = ", ".join("?" for _ in statuses)
        rows = self._all_rows(
            f"SELECT * FROM payment_sessions WHERE status IN ({marks})"
            " AND checkout_session_id IS NOT NULL ORDER BY updated_at, id LIMIT ?",
            *statuses, limit)
        return [PaymentSession(**dict(row)) for row in rows]

    def list_payment_sessions(self, status: str | None = None,
                              limit: int = 200) -> list[PaymentSession]:
        where, params = ("WHERE status = ?", [status]) if status else ("", [])
        rows = self._all_rows(
            f"SELECT * FROM payment_sessions {where} ORDER BY created_at DESC, id LIMIT ?",
            *params, limit)
        return [PaymentSession(**dict(row)) for row in rows]

    def count_payment_sessions(self, statuses: tuple[str, ...]) -> int:
        """Sessions in one of ``statuses`` (``payment_session.LIVE``: in progress)."""
        marks = ", ".join("?" for _ in statuses)
        return self._count(
            f"SELECT COUNT(*) FROM payment_sessions WHERE status IN ({marks})", *statuses)

    # -- transactions and orders ---------------------------------------------------------
    def add_transaction(self, txn: Transaction) -> None:
        """Raises ``Conflict`` for a second transaction of the same PaymentIntent."""
        self._insert("transactions", _transaction_row(txn))

    def save_transaction(self, txn: Transaction) -> None:
        self._update("transactions", "id", _transaction_row(txn))

    def get_transaction(self, transaction_id: str) -> Transaction | None:
        return _transaction(self._one("SELECT * FROM transactions WHERE id = ?", transaction_id))

    def transaction_by_payment_intent(self, payment_intent_id: str) -> Transaction | None:
        return _transaction(self._one(
            "SELECT * FROM transactions WHERE payment_intent_id = ?", payment_intent_id))

    def transactions_for_win(self, win_id: str) -> list[Transaction]:
        rows = self._all_rows(
            "SELECT * FROM transactions WHERE win_id = ? ORDER BY created_at, id", win_id)
        return [txn for row in rows if (txn := _transaction(row)) is not None]

    def list_transactions(self, limit: int = 200) -> list[Transaction]:
        rows = self._all_rows(
            "SELECT * FROM transactions ORDER BY created_at DESC, id LIMIT ?", limit)
        return [txn for row in rows if (txn := _transaction(row)) is not None]

    def count_transactions(self, review_status: str | None = None) -> int:
        """Every transaction, or those whose fraud review is in ``review_status``."""
        where, params = ("WHERE review_status = ?", [review_status]) if review_status \
            else ("", [])
        return self._count(f"SELECT COUNT(*) FROM transactions {where}", *params)

    def review_queue(self) -> list[Transaction]:
        """Payments a fraud rule flagged, waiting for a human."""
        rows = self._all_rows(
            "SELECT * FROM transactions WHERE review_status = 'pending' ORDER BY created_at")
        return [txn for row in rows if (txn := _transaction(row)) is not None]

    def add_order(self, order: Order) -> None:
        """Raises ``Conflict`` for a second order of the same win."""
        self._insert("orders", asdict(order))

    def save_order(self, order: Order) -> None:
        self._update("orders", "id", asdict(order))

    def get_order(self, order_id: str) -> Order | None:
        return _order(self._one("SELECT * FROM orders WHERE id = ?", order_id))

    def order_for_win(self, win_id: str) -> Order | None:
        return _order(self._one("SELECT * FROM orders WHERE win_id = ?", win_id))

    def list_orders(self, status: str | None = None, limit: int = 200) -> list[Order]:
        where, params = ("WHERE status = ?", [status]) if status else ("", [])
        rows = self._all_rows(
            f"SELECT * FROM orders {where} ORDER BY created_at DESC, id LIMIT ?", *params, limit)
        return [Order(**dict(row)) for row in rows]

    def count_orders(self, status: str | None = None) -> int:
        where, params = ("WHERE status = ?", [status]) if status else ("", [])
        return self._count(f"SELECT COUNT(*) FROM orders {where}", *params)

    def orders_with_receipts(self) -> list[Order]:
        rows = self._all_rows("SELECT * FROM orders WHERE receipt_path IS NOT NULL ORDER BY id")
        return [Order(**dict(row)) for row in rows]


def _session_row(session: PaymentSession) -> dict[str, Any]:
    """Stripe's decline message can quote what the buyer typed."""
    reason = session.failure_reason
    return asdict(replace(session, failure_reason=mask_card_numbers(reason) if reason
                          else reason))


def _session(row: sqlite3.Row | None) -> PaymentSession | None:
    return PaymentSession(**dict(row)) if row is not None else None


def _transaction(row: sqlite3.Row | None) -> Transaction | None:
    if row is None:
        return None
    data = dict(row)
    data["review_flags"] = tuple(json.loads(data["review_flags"] or "[]"))
    return Transaction(**data)


def _transaction_row(txn: Transaction) -> dict[str, Any]:
    data = asdict(txn)
    data["review_flags"] = json.dumps(list(txn.review_flags))
    return data


def _order(row: sqlite3.Row | None) -> Order | None:
    return Order(**dict(row)) if row is not None else None
