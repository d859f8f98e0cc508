"""Alerts for a human and security events (refusals, sign-ins, admin actions), their
texts encrypted at rest; what anyone can cause at will is counted per time bucket."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from simulator.service.adapters.storage.store import Store
from simulator.service.domain.alerts import Alert
from simulator.service.domain.card_numbers import mask_card_numbers


class SecurityRecords(Store):
    """Alerts and security events."""

    # -- alerts --------------------------------------------------------------------------
    def add_alert(self, alert: Alert, *, unless_since: int | None = None) -> bool:
        """Record ``alert``; with ``unless_since``, not when one of the same kind and
        subject was recorded since then (a burst makes one alert, not hundreds)."""
        with self.transaction():
            if unless_since is not None and self._one(
                    "SELECT 1 FROM alerts WHERE kind = ? AND IFNULL(subject_id, '') = ?"
                    " AND at >= ?", alert.kind, alert.subject_id or "", unless_since):
                return False
            self._insert("alerts", {**asdict(alert), "message": self.cipher.encrypt(
                mask_card_numbers(alert.message))})
            return True

    def list_alerts(self, limit: int = 200) -> list[Alert]:
        rows = self._all_rows(
            "SELECT kind, severity, message, at, subject_id FROM alerts ORDER BY id DESC"
            " LIMIT ?", limit)
        return [Alert(**{**dict(row), "message": self.cipher.decrypt(row["message"])})
                for row in rows]

    def count_alerts(self) -> int:
        return self._count("SELECT COUNT(*) FROM alerts")

    def get_alert(self, alert_id: int) -> Alert | None:
        row = self._one("SELECT kind, severity, message, at, subject_id FROM alerts"
                        " WHERE id = ?", alert_id)
        return Alert(**{**dict(row), "message": self.cipher.decrypt(row["message"])}) \
            if row else None

    def forward_alerts_as_jobs(self, job_kind: str | None) -> None:
        """Every alert recorded from now on gets a ``job_kind`` job (ref: the alert's id)
        in the same transaction, whichever process or code path recorded it (a trigger:
        the transactional outbox of ``adapters/alert_webhook.py``); None: no more."""
        if job_kind is not None and not job_kind.isidentifier():
            raise ValueError(f"not a job kind: {job_kind!r}")  # it is written into the SQL
        with self.transaction() as conn:
            conn.execute("DROP TRIGGER IF EXISTS alert_forwarding")
            if job_kind is not None:
                conn.execute(
                    "CREATE TRIGGER alert_forwarding AFTER INSERT ON alerts BEGIN"
                    " INSERT OR IGNORE INTO jobs (kind, ref, due_at, created_at, attempts, done)"
                    f" VALUES ('{job_kind}', CAST(NEW.id AS TEXT), NEW.at, NEW.at, 0, 0); END")

    # -- security events -----------------------------------------------------------------
    def add_security_event(self, kind: str, detail: str, remote_addr: str, at: int) -> None:
        self._insert("security_events", {
            "kind": kind, "detail": self.cipher.encrypt(mask_card_numbers(detail)),
            "remote_addr": remote_addr, "at": at})

    def count_security_events(self, since: int, kind_prefix: str = "") -> int:
        """How many times events of a kind happened since ``since`` (a counted row
        counts each time)."""
        return self._count("SELECT COALESCE(SUM(COALESCE(count, 1)), 0) FROM security_events"
                           " WHERE at >= ? AND kind LIKE ?", since, f"{kind_prefix}%")

    def count_security_event_rows(self) -> int:
        """The rows the admin's list shows (a counted row is one)."""
        return self._count("SELECT COUNT(*) FROM security_events")

    def list_security_events(self, limit: int = 200) -> list[dict[str, Any]]:
        rows = self._all_rows("SELECT * FROM security_events ORDER BY id DESC LIMIT ?", limit)
        return [{**dict(row), "detail": self.cipher.decrypt(row["detail"])} for row in rows]

    def count_security_event(self, kind: str, detail: str, remote_addr: str, at: int,
                             bucket_seconds: int) -> None:
        """One row per kind and time bucket, counting: what anyone can make happen at will
        (an unsigned webhook, a form without its CSRF token) cannot fill the disk."""
        bucket = at - at % bucket_seconds
        with self.transaction() as conn:
            updated = conn.execute(
                "UPDATE security_events SET count = COALESCE(count, 1) + 1, at = ?,"
                " remote_addr = ? WHERE kind = ? AND bucket = ?",
                (at, remote_addr, kind, bucket)).rowcount
            if not updated:
                self._insert("security_events", {
                    "kind": kind, "detail": self.cipher.encrypt(mask_card_numbers(detail)),
                    "remote_addr": remote_addr, "at": at, "count": 1, "bucket": bucket})
