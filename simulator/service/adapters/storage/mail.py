"""The mail outbox: one row per notice (its dedupe key), the address and text encrypted
at rest, the address found by its blind index; queued, retried, sent or failed."""

from __future__ import annotations

import sqlite3
from typing import Any

from simulator.service.adapters.storage.store import Store, normalized_email
from simulator.service.domain.card_numbers import mask_card_numbers
from simulator.service.domain.notification import Mail, QueuedMail

MAIL_COLUMNS = ("id, to_addr AS 'to', subject, body AS text, receipt_order_id, status, attempts,"
                " last_error, created_at, sent_at")


class MailRecords(Store):
    """``mail_outbox``."""

    def queue_mail(self, mail: Mail, at: int) -> int | None:
        """The outbox row's id, or None when that notice was queued before."""
        cursor = self.connection().execute(
            "INSERT INTO mail_outbox (dedupe_key, to_addr, to_index, subject, body,"
            " receipt_order_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (dedupe_key) DO NOTHING",
            (mail.dedupe_key, self.cipher.encrypt(mail.to),
             self.cipher.blind_index(normalized_email(mail.to)),
             mask_card_numbers(mail.subject), self.cipher.encrypt(mask_card_numbers(mail.text)),
             mail.receipt_order_id, at))
        return int(cursor.lastrowid or 0) if cursor.rowcount else None

    def _queued_mail(self, row: sqlite3.Row) -> QueuedMail:
        return QueuedMail(**{**dict(row), "to": self.cipher.decrypt(row["to"]),
                             "text": self.cipher.decrypt(row["text"]),
                             "last_error": self.cipher.decrypt(row["last_error"])})

    def get_mail(self, mail_id: int) -> QueuedMail | None:
        row = self._one(
            f"SELECT {MAIL_COLUMNS} FROM mail_outbox WHERE id = ?", mail_id)
        return self._queued_mail(row) if row else None

    def mail_to(self, address: str) -> list[dict[str, Any]]:
        """What was queued for ``address`` (through the blind index), oldest first."""
        indexes = self.cipher.blind_indexes(normalized_email(address))
        marks = ", ".join("?" for _ in indexes)
        rows = self._all_rows(
            "SELECT id, dedupe_key, subject, status, created_at, sent_at FROM mail_outbox"
            f" WHERE to_index IN ({marks}) ORDER BY id", *indexes)
        return [dict(row) for row in rows]

    def mark_mail_sent(self, mail_id: int, at: int) -> None:
        self.connection().execute(
            "UPDATE mail_outbox SET status = 'sent', sent_at = ?, attempts = attempts + 1,"
            " last_error = NULL WHERE id = ?", (at, mail_id))

    def mark_mail_failed(self, mail_id: int, error: str, permanent: bool) -> None:
        self.connection().execute(
            "UPDATE mail_outbox SET status = ?, attempts = attempts + 1, last_error = ?"
            " WHERE id = ?", ("failed" if permanent else "pending",
                              self.cipher.encrypt(mask_card_numbers(error[:2000])), mail_id))

    def list_mail(self, status: str | None = None, limit: int = 200) -> list[QueuedMail]:
        where, params = ("WHERE status = ?", [status]) if status else ("", [])
        rows = self._all_rows(
            f"SELECT {MAIL_COLUMNS} FROM mail_outbox {where} ORDER BY id DESC LIMIT ?",
            *params, limit)
        return [self._queued_mail(row) for row in rows]
