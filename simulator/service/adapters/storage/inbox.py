"""The webhook inbox: one row per Stripe event id, claimed by the worker processing it,
its payload encrypted at rest. Dedupe is on *processed*, not on received."""

from __future__ import annotations

import sqlite3
from dataclasses import fields

from simulator.service.adapters.storage.store import Store
from simulator.service.domain.card_numbers import mask_card_numbers, mask_card_numbers_in_json
from simulator.service.domain.inbox import InboxClaim, InboxEvent

INBOX_FIELDS = tuple(f.name for f in fields(InboxEvent))
# ``received`` is what older versions wrote before processing; ``processing`` is claimed.
UNFINISHED = ("received", "processing")


class InboxRecords(Store):
    """``webhook_inbox``."""

    def claim_webhook_event(self, event_id: str, event_type: str, payload: str, at: int,
                            claim: InboxClaim) -> str:
        """Store a delivery and claim it for processing. Dedupe is on *processed*:
        ``"processed"`` when an earlier delivery's work committed, ``"in_progress"`` when
        a live worker holds it, else ``"claimed"`` (new, failed, or left by a worker that
        died: it is processed again; handlers re-read state and exit early)."""
        with self.transaction():
            row = self._one("SELECT status, claimed_by, claimed_until FROM webhook_inbox"
                            " WHERE event_id = ?", event_id)
            if row is None:
                self._insert("webhook_inbox", {
                    "event_id": event_id, "type": event_type,
                    "payload": self.cipher.encrypt(mask_card_numbers_in_json(payload)),
                    "received_at": at, "status": "processing", "claimed_by": claim.owner,
                    "claimed_until": claim.lease_until})
                return "claimed"
            if row["status"] == "processed":
                return "processed"
            if row["status"] in UNFINISHED and claim.holds(row["claimed_by"],
                                                           row["claimed_until"]):
                return "in_progress"
            self._take_over(event_id, at, claim)
            return "claimed"

    def _take_over(self, event_id: str, at: int, claim: InboxClaim) -> None:
        self.connection().execute(
            "UPDATE webhook_inbox SET status = 'processing', received_at = ?,"
            " attempts = attempts + 1, claimed_by = ?, claimed_until = ? WHERE event_id = ?",
            (at, claim.owner, claim.lease_until, event_id))

    def claim_unfinished_webhook_event(self, at: int, claim: InboxClaim) -> InboxEvent | None:
        """The oldest event whose processing was cut off (its worker died or its lease
        ran out), claimed for ``claim.owner``; None when there is none."""
        with self.transaction():
            rows = self._all_rows(
                "SELECT event_id, claimed_by, claimed_until FROM webhook_inbox"
                f" WHERE status IN {UNFINISHED} ORDER BY received_at, event_id")
            for row in rows:
                if not claim.holds(row["claimed_by"], row["claimed_until"]):
                    self._take_over(row["event_id"], at, claim)
                    return self.get_webhook_event(row["event_id"])
        return None

    def release_webhook_claims(self) -> int:
        """At start-up, with the instance lock held: every claim belongs to a process
        that is gone, so the events it held can be taken at once."""
        cursor = self.connection().execute(
            f"UPDATE webhook_inbox SET claimed_until = 0 WHERE status IN {UNFINISHED}")
        return cursor.rowcount

    def mark_webhook_processed(self, event_id: str, at: int) -> None:
        self.connection().execute(
            "UPDATE webhook_inbox SET status = 'processed', processed_at = ?, error = NULL,"
            " claimed_until = NULL WHERE event_id = ?", (at, event_id))

    def mark_webhook_failed(self, event_id: str, error: str, at: int) -> None:
        self.connection().execute(
            "UPDATE webhook_inbox SET status = 'failed', error = ?, processed_at = ?,"
            " claimed_until = NULL WHERE event_id = ?",
            (self.cipher.encrypt(mask_card_numbers(error[:2000])), at, event_id))

    def get_webhook_event(self, event_id: str) -> InboxEvent | None:
        row = self._one("SELECT * FROM webhook_inbox WHERE event_id = ?", event_id)
        return self._inbox_event(row) if row else None

    def _inbox_event(self, row: sqlite3.Row) -> InboxEvent:
        """Decrypted; masked again on the way out, for rows stored before masking."""
        data = {name: row[name] for name in INBOX_FIELDS}
        data["payload"] = mask_card_numbers_in_json(self.cipher.decrypt(row["payload"]) or "")
        error = self.cipher.decrypt(row["error"])
        data["error"] = mask_card_numbers(error) if error else error
        return InboxEvent(**data)

    def count_webhook_events(self, status: str | None = None) -> int:
        where, params = ("WHERE status = ?", [status]) if status else ("", [])
        return self._count(f"SELECT COUNT(*) FROM webhook_inbox {where}", *params)

    def list_webhook_events(self, status: str | None = None,
                            limit: int = 200) -> list[InboxEvent]:
        where, params = ("WHERE status = ?", [status]) if status else ("", [])
        rows = self._all_rows(
            f"SELECT * FROM webhook_inbox {where} ORDER BY received_at DESC LIMIT ?",
            *params, limit)
        return [self._inbox_event(row) for row in rows]
