"""The audit log: every entry linked to the one before it by a SHA-256 hash computed
inside the write transaction (``domain/audit.py``), its head kept in the service's
state."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from dataclasses import fields, replace

from simulator.service.adapters.storage.schema import AUDIT_HEAD
from simulator.service.adapters.storage.state import StateRecords
from simulator.service.adapters.storage.store import json_text
from simulator.service.domain.audit import (
    GENESIS,
    AuditEntry,
    ChainBreak,
    ChainedEntry,
    first_break,
    link_hash,
)
from simulator.service.domain.card_numbers import mask_in


class AuditRecords(StateRecords):
    """``audit_log``, a hash chain whose head is kept in ``service_state``."""

    def add_audit(self, entry: AuditEntry) -> None:
        """Append ``entry`` to the hash chain. The link is made inside the write
        transaction (``BEGIN IMMEDIATE`` holds the database's write lock), so writers in
        several processes queue up and never fork the chain. It follows the recorded head,
        not the last row: an entry deleted from the end still breaks the chain."""
        # Field by field, not ``asdict``: that would deep-copy both snapshots only for
        # them to be replaced by their JSON on the next lines.
        values = {field.name: getattr(entry, field.name) for field in fields(entry)}
        values["before"] = json_text(mask_in(entry.before))
        values["after"] = json_text(mask_in(entry.after))
        stored = replace(entry, before=json.loads(values["before"] or "null"),
                         after=json.loads(values["after"] or "null"))
        with self.transaction():
            previous = self._audit_previous_hash()
            values["previous_hash"], values["hash"] = previous, link_hash(previous, stored)
            entry_id = self._insert("audit_log", values)
            self._set_audit_head(entry_id, values["hash"], entry.at)

    def _audit_previous_hash(self) -> str:
        head = self.audit_head()
        if head is not None:
            return head[1]
        row = self._one("SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1")
        return str(row[0]) if row and row[0] else GENESIS

    def _set_audit_head(self, entry_id: int, entry_hash: str, at: int) -> None:
        self.set_state(AUDIT_HEAD, {"id": entry_id, "hash": entry_hash}, at)

    def audit_head(self) -> tuple[int, str] | None:
        """The id and hash of the newest entry, as recorded when it was written."""
        head = self.get_state(AUDIT_HEAD)
        return (int(head["id"]), str(head["hash"])) if head else None

    def audit_chain(self) -> Iterator[ChainedEntry]:
        """Every entry in order, with its hashes (for ``stripe-sim audit verify``)."""
        cursor = self.connection().execute("SELECT * FROM audit_log ORDER BY id")
        for row in cursor:
            yield ChainedEntry(row["id"], audit_entry(row), row["previous_hash"],
                               row["hash"])

    def verify_audit_chain(self) -> ChainBreak | None:
        """The first entry that was edited, deleted or added outside the chain, read
        from one snapshot (a read transaction: the service's writers carry on)."""
        conn = self.connection()
        if conn.in_transaction:
            return first_break(self.audit_chain(), self.audit_head())
        conn.execute("BEGIN")
        try:
            return first_break(self.audit_chain(), self.audit_head())
        finally:
            conn.execute("COMMIT")

    def audit_for(self, subject_type: str, subject_id: str) -> list[AuditEntry]:
        rows = self._all_rows(
            "SELECT * FROM audit_log WHERE subject_type = ? AND subject_id = ? ORDER BY id",
            subject_type, subject_id)
        return [audit_entry(row) for row in rows]

    def audit_action_counts(self, since: int, actions: tuple[str, ...]) -> dict[str, int]:
        """How many entries of each of ``actions`` were written at or after ``since``
        (none: absent)."""
        marks = ", ".join("?" for _ in actions)
        rows = self._all_rows(
            f"SELECT action, COUNT(*) FROM audit_log WHERE at >= ? AND action IN ({marks})"
            " GROUP BY action", since, *actions)
        return {str(row[0]): int(row[1]) for row in rows}

    def list_audit(self, limit: int = 200) -> list[AuditEntry]:
        rows = self._all_rows("SELECT * FROM audit_log ORDER BY id DESC LIMIT ?", limit)
        return [audit_entry(row) for row in rows]


def audit_entry(row: sqlite3.Row) -> AuditEntry:
    """An ``audit_log`` row as the entry that was recorded (what its hash covers)."""
    return AuditEntry(
        actor=row["actor"], action=row["action"], subject_type=row["subject_type"],
        subject_id=row["subject_id"], at=row["at"],
        before=json.loads(row["before"]) if row["before"] else None,
        after=json.loads(row["after"]) if row["after"] else None)

