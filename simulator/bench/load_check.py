"""The correctness check after a load run: what the databases must say, whatever the
figures were.

- Every Checkout Session of the service's that Stripe (the sandbox) says is paid has
  exactly one order, and no paid order lacks a payment at Stripe.
- No event was processed twice: no payment session turned ``succeeded`` twice and no
  win got two ``order.created`` entries in the audit log; every stored event ends up
  processed.
- No delivery was lost: the sandbox gave up on none (each one eventually got a 2xx, or
  is still being retried).
- Every paid order has its receipt, and its receipt mail is queued or sent.

First the run is let to settle: the sandbox's due deliveries are drained and the
service's due jobs run, until nothing is pending or ``settle_seconds`` pass.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from simulator.bench.load_plan import test_route_headers
from simulator.common.clock import monotonic
from simulator.service.adapters.repositories import Repository

SETTLE_POLL_SECONDS = 0.25


@dataclass(frozen=True)
class Count:
    """One figure of the check; ``ok`` when it is what it must be."""

    name: str
    actual: int
    expected: int | None = None  # None: reported, not checked

    @property
    def ok(self) -> bool:
        return self.expected is None or self.actual == self.expected

    def line(self) -> str:
        if self.expected is None:
            return f"  [info] {self.name}: {self.actual:,}"
        return (f"  [{'ok' if self.ok else 'FAIL'}] {self.name}: {self.actual:,}"
                f" (must be {self.expected:,})")


@dataclass
class Correctness:
    counts: list[Count]

    @property
    def ok(self) -> bool:
        return all(count.ok for count in self.counts)

    def lines(self) -> list[str]:
        return [count.line() for count in self.counts]


@dataclass(frozen=True)
class Targets:
    sandbox_url: str
    api_key: str
    service_url: str
    service_db: str


def settle(targets: Targets, settle_seconds: float) -> dict[str, int]:
    """Drain the sandbox's outbox and run the service's due jobs until no delivery is
    due and no paid order waits for its receipt; the sandbox's delivery counts."""
    deadline = monotonic() + settle_seconds
    while True:
        drained = _post(f"{targets.sandbox_url}/_sandbox/webhooks/drain")
        _post(f"{targets.service_url}/_test/jobs/run", test_route_headers(targets.service_db))
        counts: dict[str, int] = dict(drained.get("deliveries", {}))
        waiting = _orders_waiting(targets.service_db) + _events_unfinished(targets.service_db)
        if (not drained.get("attempted") and not waiting) or monotonic() > deadline:
            return counts
        time.sleep(SETTLE_POLL_SECONDS)


def check(targets: Targets, *, settle_seconds: float = 30.0) -> Correctness:
    deliveries = settle(targets, settle_seconds)
    paid = list(_paid_sessions(targets))
    repo = Repository(targets.service_db)
    try:
        return Correctness(_payment_counts(repo, paid) + _event_counts(repo, deliveries)
                           + _receipt_counts(repo))
    finally:
        repo.close()


# -- orders against Stripe --------------------------------------------------------------------
def _paid_sessions(targets: Targets) -> Iterator[dict[str, Any]]:
    """The service's Checkout Sessions (they carry its ``payment_session_id``) that the
    sandbox says are paid, page by page."""
    headers = {"Authorization": f"Bearer {targets.api_key}"}
    after: str | None = None
    while True:
        params: dict[str, Any] = {"limit": 100, **({"starting_after": after} if after else {})}
        page = requests.get(f"{targets.sandbox_url}/v1/checkout/sessions", params=params,
                            headers=headers, timeout=60)
        page.raise_for_status()
        body = page.json()
        for session in body["data"]:
            if (session.get("metadata") or {}).get("payment_session_id") \
                    and session.get("payment_status") == "paid":
                yield session
        if not body.get("has_more") or not body["data"]:
            return
        after = body["data"][-1]["id"]


def _payment_counts(repo: Repository, paid: list[dict[str, Any]]) -> list[Count]:
    conn = repo.connection()
    wins_paid: set[str] = set()
    one_order = unknown = 0
    for session in paid:
        ours = repo.session_by_checkout_id(str(session["id"]))
        if ours is None:
            unknown += 1
            continue
        wins_paid.add(ours.win_id)
        orders = conn.execute("SELECT status FROM orders WHERE win_id = ?",
                              (ours.win_id,)).fetchall()
        one_order += len(orders) == 1 and orders[0][0] in ("paid", "refunded")
    paid_orders = conn.execute(
        "SELECT win_id FROM orders WHERE status IN ('paid', 'refunded')").fetchall()
    unpaid = sum(1 for (win_id,) in paid_orders if win_id not in wins_paid)
    return [Count("sessions paid at Stripe", len(paid)),
            Count("paid at Stripe, with exactly one paid order", one_order, len(paid)),
            Count("paid at Stripe, unknown to the service", unknown, 0),
            Count("paid orders with no payment at Stripe", unpaid, 0)]


# -- events and deliveries ------------------------------------------------------------------
def _event_counts(repo: Repository, deliveries: dict[str, int]) -> list[Count]:
    conn = repo.connection()
    twice_paid = conn.execute(
        "SELECT COUNT(*) FROM (SELECT subject_id FROM audit_log"
        " WHERE action = 'payment_session.succeeded' GROUP BY subject_id"
        " HAVING COUNT(*) > 1)").fetchone()[0]
    twice_ordered = conn.execute(
        "SELECT COUNT(*) FROM (SELECT json_extract(after, '$.win_id') AS win FROM audit_log"
        " WHERE action = 'order.created' GROUP BY win HAVING COUNT(*) > 1)").fetchone()[0]
    return [
        Count("events stored by the service", repo.count("webhook_inbox")),
        Count("events stored but not processed", _events_unfinished(repo.path), 0),
        Count("payments recorded twice (audit)", int(twice_paid), 0),
        Count("wins ordered twice (audit)", int(twice_ordered), 0),
        Count("sandbox deliveries answered 2xx", deliveries.get("delivered", 0)),
        Count("sandbox deliveries still being retried", deliveries.get("pending", 0)),
        Count("sandbox deliveries given up (lost)", deliveries.get("failed", 0), 0),
    ]


def _events_unfinished(db_path: str) -> int:
    return _scalar(db_path, "SELECT COUNT(*) FROM webhook_inbox WHERE status != 'processed'")


# -- receipts ---------------------------------------------------------------------------------
def _receipt_counts(repo: Repository) -> list[Count]:
    conn = repo.connection()
    no_mail = conn.execute(
        "SELECT COUNT(*) FROM orders o WHERE o.status = 'paid' AND NOT EXISTS"
        " (SELECT 1 FROM mail_outbox m WHERE m.receipt_order_id = o.id)").fetchone()[0]
    sent = repo.count("mail_outbox", "WHERE receipt_order_id IS NOT NULL AND status = 'sent'")
    return [Count("paid orders", repo.count("orders", "WHERE status = 'paid'")),
            Count("paid orders without their receipt", _orders_waiting(repo.path), 0),
            Count("paid orders without a receipt mail", int(no_mail), 0),
            Count("receipt mails sent", sent)]


def _orders_waiting(db_path: str) -> int:
    return _scalar(db_path, "SELECT COUNT(*) FROM orders WHERE status = 'paid'"
                            " AND (receipt_path IS NULL OR receipt_path = '')")


def _scalar(db_path: str, sql: str) -> int:
    """A count read through a read-only connection (the service keeps writing)."""
    conn = sqlite3.connect(f"{Path(db_path).resolve().as_uri()}?mode=ro", uri=True,
                           timeout=30)
    try:
        row = conn.execute(sql).fetchone()
        return int(row[0]) if row else 0
    finally:
        conn.close()


def _post(url: str, headers: dict[str, str] | None = None) -> dict[str, Any]:
    answer = requests.post(url, timeout=120, headers=headers)
    answer.raise_for_status()
    body: dict[str, Any] = answer.json()
    return body
