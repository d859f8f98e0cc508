"""What the admin's charts show, read from the service's own records: payment attempts
(``payment_sessions``), payments (``transactions``), the webhook inbox (received and
processed times) and the audit log.

Each report is a named query over a time range cut into hour or day buckets, so the web
layer asks for ``success_rate(...)``, never passes SQL. Buckets are UTC and aligned to the
hour or the day; a bucket with no activity is present with ``None`` (no data), which is not
the same as zero."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from simulator.service.adapters.storage.store import Store
from simulator.service.domain.audit import AuditEntry

Granularity = Literal["hour", "day"]
BUCKET_SECONDS: dict[Granularity, int] = {"hour": 3600, "day": 86_400}
# The audit actions of a try that ended: what a success rate is a share of.
SUCCEEDED, FAILED = "payment_session.succeeded", "payment_session.failed"
# Each won lot that was ever declined: when first, and whether it is paid now.
_FAILED_WINS = (
    "SELECT p.win_id, MIN(a.at) AS first_failed, MAX(EXISTS (SELECT 1 FROM payment_sessions s"
    " WHERE s.win_id = p.win_id AND s.status = 'succeeded')) AS recovered"
    " FROM audit_log a JOIN payment_sessions p ON p.id = a.subject_id"
    " WHERE a.action = ? GROUP BY p.win_id")


@dataclass(frozen=True)
class TimeRange:
    """``count`` buckets of one ``granularity`` ending with the one holding ``now``."""

    granularity: Granularity
    count: int
    now: int

    @property
    def size(self) -> int:
        return BUCKET_SECONDS[self.granularity]

    @property
    def starts(self) -> list[int]:
        last = self.now - self.now % self.size
        return [last - self.size * back for back in range(self.count - 1, -1, -1)]

    @property
    def start(self) -> int:
        return self.starts[0]

    @property
    def end(self) -> int:
        return self.starts[-1] + self.size


@dataclass(frozen=True)
class Point:
    """One bucket: its start (epoch seconds) and value (``None``: nothing happened)."""

    start: int
    value: float | None
    detail: str = ""


@dataclass(frozen=True)
class Series:
    name: str
    unit: Literal["percent", "count", "cents", "seconds"]
    points: tuple[Point, ...]

    @property
    def total_known(self) -> int:
        return sum(1 for point in self.points if point.value is not None)


@dataclass(frozen=True)
class TimelineEntry:
    """One thing that happened to a payment, for its timeline page."""

    at: int
    kind: str  # checkout, attempt, payment, stripe_event, notification, job, audit, order
    title: str
    detail: str = ""
    ref: str = ""


class AdminReports:
    """Read-only queries for the admin's overview and a payment's timeline."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def _rows(self, sql: str, *params: object) -> list[sqlite3.Row]:
        return list(self.store.connection().execute(sql, params).fetchall())

    # -- charts -----------------------------------------------------------------------
    def success_rate(self, span: TimeRange) -> Series:
        """Payments that succeeded out of tries that ended (a success or a decline), by
        when it happened. A Checkout Session may be declined and then paid on the same
        page, so the tries are counted from the audit trail, not from each attempt's
        final status. Expired and canceled attempts are not declines."""
        rows = self._rows(
            "SELECT (at - at % ?) AS bucket, action, COUNT(*) AS n FROM audit_log"
            " WHERE action IN (?, ?) AND at >= ? AND at < ? GROUP BY bucket, action",
            span.size, SUCCEEDED, FAILED, span.start, span.end)
        counts: dict[int, dict[str, int]] = {}
        for row in rows:
            counts.setdefault(row["bucket"], {})[row["action"]] = row["n"]
        return Series("Success rate", "percent", tuple(
            _share(start, counts.get(start, {}).get(SUCCEEDED, 0),
                   sum(counts.get(start, {}).values())) for start in span.starts))

    def failures_by_reason(self, span: TimeRange) -> dict[str, Series]:
        """Declines per bucket, one series per decline code (from the audit entry's new
        state; ``unknown`` when Stripe gave none), most frequent first."""
        rows = self._rows(
            "SELECT (at - at % ?) AS bucket, IFNULL(NULLIF(json_extract(after,"
            " '$.failure_code'), ''), 'unknown') AS reason, COUNT(*) AS n FROM audit_log"
            " WHERE action = ? AND at >= ? AND at < ? GROUP BY bucket, reason",
            span.size, FAILED, span.start, span.end)
        by_reason: dict[str, dict[int, int]] = {}
        for row in rows:
            by_reason.setdefault(row["reason"], {})[row["bucket"]] = row["n"]
        ordered = sorted(by_reason.items(), key=lambda item: (-sum(item[1].values()), item[0]))
        return {reason: Series(f"Declines: {reason}", "count", tuple(
            Point(start, float(found.get(start, 0))) for start in span.starts))
            for reason, found in ordered}

    def recovery_rate(self, span: TimeRange) -> Series:
        """Of the won lots whose first decline falls in a bucket, the share paid since
        (by a retry on the same page or a new attempt). Lots still inside their payment
        window count as not recovered yet."""
        rows = self._rows(
            f"SELECT (first_failed - first_failed % ?) AS bucket, COUNT(*) AS failed,"
            f" SUM(recovered) AS recovered FROM ({_FAILED_WINS})"
            f" WHERE first_failed >= ? AND first_failed < ? GROUP BY bucket",
            span.size, FAILED, span.start, span.end)
        found = {row["bucket"]: (row["recovered"] or 0, row["failed"]) for row in rows}
        return Series("Recovery rate", "percent", tuple(
            _share(start, *found.get(start, (0, 0))) for start in span.starts))

    def recovery_overall(self) -> tuple[int, int]:
        """(recovered, declined): every won lot that was ever declined, and how many of
        them were paid since."""
        row = self._rows(f"SELECT COUNT(*) AS failed, IFNULL(SUM(recovered), 0) AS recovered"
                         f" FROM ({_FAILED_WINS})", FAILED)[0]
        return int(row["recovered"]), int(row["failed"])

    def revenue(self, span: TimeRange) -> tuple[str, Series]:
        """Money taken by payments (succeeded, or refunded since: their refunds are taken
        off), by when they were paid, in the currency most paid in (cents). Returns the
        currency and the series."""
        rows = self._rows(
            "SELECT (created_at - created_at % ?) AS bucket, LOWER(IFNULL(currency, 'usd'))"
            " AS currency, SUM(amount - IFNULL(amount_refunded, 0)) AS cents FROM transactions"
            " WHERE status IN ('succeeded', 'partially_refunded', 'refunded')"
            " AND created_at >= ? AND created_at < ?"
            " GROUP BY bucket, currency", span.size, span.start, span.end)
        totals: dict[str, dict[int, int]] = {}
        for row in rows:
            totals.setdefault(row["currency"], {})[row["bucket"]] = row["cents"]
        currency = max(totals, key=lambda c: sum(totals[c].values()), default="usd")
        chosen = totals.get(currency, {})
        return currency, Series("Revenue", "cents", tuple(
            Point(start, float(chosen[start]) if start in chosen else None)
            for start in span.starts))

    def webhook_latency(self, span: TimeRange) -> Series:
        """Seconds from a Stripe event's arrival to the end of its processing (average per
        bucket, the slowest in ``detail``), over the inbox rows processed in the bucket."""
        rows = self._rows(
            "SELECT (processed_at - processed_at % ?) AS bucket, COUNT(*) AS n,"
            " AVG(processed_at - received_at) AS mean, MAX(processed_at - received_at) AS worst"
            " FROM webhook_inbox WHERE status = 'processed' AND processed_at >= ?"
            " AND processed_at < ? GROUP BY bucket", span.size, span.start, span.end)
        found = {row["bucket"]: row for row in rows}
        return Series("Webhook processing latency", "seconds", tuple(
            Point(start, float(found[start]["mean"]),
                  f"{found[start]['n']} events, slowest {found[start]['worst']} s")
            if start in found else Point(start, None) for start in span.starts))

    # -- a payment's timeline ----------------------------------------------------------
    def payment_timeline(self, win_id: str) -> list[TimelineEntry]:
        """Everything recorded about one won lot's payment, oldest first: attempts
        (checkouts), payments, the Stripe events naming its Checkout Sessions or
        PaymentIntents, reminders and retries (jobs), mail, and audit entries."""
        sessions = self._rows("SELECT * FROM payment_sessions WHERE win_id = ?"
                              " ORDER BY attempt", win_id)
        entries = [*_session_entries(sessions)]
        transactions = self._rows("SELECT * FROM transactions WHERE win_id = ?", win_id)
        entries += [TimelineEntry(row["created_at"], "payment",
                                  f"Payment {row['status']}", _money(row), row["id"])
                    for row in transactions]
        orders = self._rows("SELECT * FROM orders WHERE win_id = ?", win_id)
        stripe_ids = {str(v) for row in sessions for v in (row["checkout_session_id"],
                                                            row["payment_intent_id"]) if v}
        stripe_ids |= {str(row["charge_id"]) for row in transactions if row["charge_id"]}
        entries += self._stripe_events(stripe_ids)
        subjects = ({row["id"] for row in sessions} | {row["id"] for row in transactions}
                    | {row["id"] for row in orders} | {win_id})
        entries += self._jobs(subjects)
        entries += self._mail({row["id"] for row in orders})
        entries += self._audit(subjects)
        return sorted(entries, key=lambda entry: (entry.at, _KIND_ORDER.get(entry.kind, 9)))

    def _stripe_events(self, stripe_ids: set[str]) -> list[TimelineEntry]:
        """Inbox rows whose payload names one of the payment's Stripe objects. The payload
        is encrypted at rest, so it is read through the store's cipher."""
        if not stripe_ids:
            return []
        found = []
        for row in self._rows("SELECT event_id, type, payload, received_at, status,"
                              " processed_at, attempts, error FROM webhook_inbox"):
            payload = self.store.cipher.decrypt(row["payload"]) or ""
            if not any(stripe_id in payload for stripe_id in stripe_ids):
                continue
            took = (f", processed in {row['processed_at'] - row['received_at']} s"
                    if row["processed_at"] else "")
            found.append(TimelineEntry(
                row["received_at"], "stripe_event", f"Stripe event {row['type']}",
                f"{row['status']} after {row['attempts']} delivery(ies){took}",
                row["event_id"]))
        return found

    def _jobs(self, subjects: set[str]) -> list[TimelineEntry]:
        rows = self._rows(
            f"SELECT kind, ref, due_at, done, attempts, created_at FROM jobs WHERE ref IN"
            f" ({_marks(subjects)})", *sorted(subjects))
        return [TimelineEntry(int(row["created_at"] or row["due_at"]), "job",
                              f"Scheduled {row['kind'].replace('_', ' ')}",
                              f"due {_utc(int(row['due_at']))}, "
                              + ("done" if row["done"] else "pending"), row["ref"])
                for row in rows]

    def _mail(self, order_ids: set[str]) -> list[TimelineEntry]:
        if not order_ids:
            return []
        rows = self._rows(
            f"SELECT id, subject, status, attempts, created_at, sent_at FROM mail_outbox"
            f" WHERE receipt_order_id IN ({_marks(order_ids)})", *sorted(order_ids))
        return [TimelineEntry(row["created_at"] or 0, "notification",
                              f"Email: {row['subject']}",
                              f"{row['status']}, {row['attempts']} attempt(s)", str(row["id"]))
                for row in rows]

    def _audit(self, subjects: set[str]) -> list[TimelineEntry]:
        rows = self._rows(
            f"SELECT actor, action, subject_type, subject_id, before, after, at FROM audit_log"
            f" WHERE subject_id IN ({_marks(subjects)}) ORDER BY id", *sorted(subjects))
        return [TimelineEntry(row["at"], "audit", f"Audit: {row['action']}",
                              f"by {row['actor']}: {_changes(row)}", row["subject_id"])
                for row in rows]

    # -- the audit log, a page at a time ----------------------------------------------
    def audit_page(self, page: int, per_page: int,
                   subjects: Iterable[str] = ()) -> tuple[list[AuditEntry], int]:
        """One page of the audit log, newest first, and the number of entries in all;
        with ``subjects``, only the entries about those ids."""
        wanted = sorted(set(subjects))
        where = f"WHERE subject_id IN ({_marks(wanted)})" if wanted else ""
        total = int(self._rows(f"SELECT COUNT(*) AS n FROM audit_log {where}", *wanted)[0]["n"])
        rows = self._rows(f"SELECT * FROM audit_log {where} ORDER BY id DESC LIMIT ? OFFSET ?",
                          *wanted, per_page, max(0, page - 1) * per_page)
        return [AuditEntry(
            actor=row["actor"], action=row["action"], subject_type=row["subject_type"],
            subject_id=row["subject_id"], at=row["at"],
            before=json.loads(row["before"]) if row["before"] else None,
            after=json.loads(row["after"]) if row["after"] else None) for row in rows], total

    def order_subjects(self, order_id: str) -> set[str]:
        """The ids whose audit entries concern an order: the order, its win, the win's
        payment attempts and payments. Empty when there is no such order."""
        order = self._rows("SELECT win_id FROM orders WHERE id = ?", order_id)
        if not order:
            return set()
        win_id = order[0]["win_id"]
        related = self._rows("SELECT id FROM payment_sessions WHERE win_id = ? UNION"
                             " SELECT id FROM transactions WHERE win_id = ?", win_id, win_id)
        return {order_id, win_id, *(row["id"] for row in related)}


_KIND_ORDER = {"checkout": 0, "attempt": 1, "stripe_event": 2, "payment": 3, "audit": 4,
               "job": 5, "notification": 6}


def _session_entries(sessions: list[sqlite3.Row]) -> list[TimelineEntry]:
    entries = []
    for row in sessions:
        entries.append(TimelineEntry(row["created_at"], "checkout",
                                     f"Checkout created (attempt {row['attempt']})",
                                     row["checkout_session_id"] or "", row["id"]))
        if row["status"] not in ("open", "processing") and row["updated_at"]:
            reason = f": {row['failure_reason'] or row['failure_code']}" \
                if row["status"] == "failed" else ""
            entries.append(TimelineEntry(row["updated_at"], "attempt",
                                         f"Attempt {row['attempt']} {row['status']}",
                                         reason.lstrip(": "), row["id"]))
    return entries


def _share(start: int, part: int, whole: int) -> Point:
    if not whole:
        return Point(start, None)
    return Point(start, 100.0 * part / whole, f"{part} of {whole}")


def _marks(values: Iterable[str]) -> str:
    return ", ".join("?" for _ in values) or "NULL"


def _money(row: sqlite3.Row) -> str:
    return f"{row['amount'] / 100:,.2f} {str(row['currency'] or 'usd').upper()}"


def _utc(at: int) -> str:
    return dt.datetime.fromtimestamp(at, tz=dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def _changes(row: sqlite3.Row) -> str:
    before = json.loads(row["before"]) if row["before"] else {}
    after = json.loads(row["after"]) if row["after"] else {}
    changed = [f"{key}: {before.get(key, '—')} → {value}" for key, value in after.items()
               if before.get(key) != value and key != "updated_at"]
    return "; ".join(changed) or row["subject_type"]
