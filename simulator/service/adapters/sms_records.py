"""Text messages in the service's database: the buyers' phone numbers and the SMS
outbox with its delivery tracking (the same life as the mail outbox: queued, retried
after a failed try, sent, or failed for good).

Both tables are declared with the rest of the schema (``storage/schema.py``); reads and
writes go through the store's connection, so every write joins the caller's transaction.
Phone numbers and texts are encrypted at rest like e-mail addresses and mail bodies."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from simulator.service.adapters.storage.store import Store
from simulator.service.domain.card_numbers import mask_card_numbers
from simulator.service.domain.notification import TextMessage

SMS_COLUMNS = ("id, to_number, body, status, attempts, last_error, provider_id, created_at,"
               " sent_at")


@dataclass(frozen=True)
class QueuedText:
    id: int
    to: str
    text: str
    status: str  # pending (queued, or waiting to be tried again), sent, failed (for good)
    attempts: int
    last_error: str | None = None
    provider_id: str | None = None
    created_at: int | None = None
    sent_at: int | None = None

    @property
    def delivery(self) -> str:
        """What an admin reads, as for mail: queued, retrying, sent or failed."""
        if self.status == "pending":
            return "retrying" if self.attempts else "queued"
        return self.status


class TextMessageRecords:
    """Reads and writes of ``user_phones`` and ``sms_outbox``."""

    def __init__(self, store: Store) -> None:
        self.store = store

    # -- phones ------------------------------------------------------------------------
    def set_phone(self, user_id: str, phone: str) -> None:
        self.store.connection().execute(
            "INSERT INTO user_phones (user_id, phone) VALUES (?, ?) ON CONFLICT(user_id)"
            " DO UPDATE SET phone = excluded.phone",
            (user_id, self.store.cipher.encrypt(phone)))

    def phone_of(self, user_id: str) -> str | None:
        row = self.store._one("SELECT phone FROM user_phones WHERE user_id = ?", user_id)
        return self.store.cipher.decrypt(row[0]) if row is not None else None

    # -- the outbox --------------------------------------------------------------------
    def queue(self, message: TextMessage, at: int) -> int | None:
        """The new message's id; None when one with its dedupe key is already queued."""
        cursor = self.store.connection().execute(
            "INSERT INTO sms_outbox (dedupe_key, to_number, body, created_at) VALUES"
            " (?, ?, ?, ?) ON CONFLICT(dedupe_key) DO NOTHING",
            (message.dedupe_key, self.store.cipher.encrypt(message.to),
             self.store.cipher.encrypt(mask_card_numbers(message.text)), at))
        return cursor.lastrowid if cursor.rowcount else None

    def get(self, sms_id: int) -> QueuedText | None:
        row = self.store._one(f"SELECT {SMS_COLUMNS} FROM sms_outbox WHERE id = ?", sms_id)
        return self._text(row) if row is not None else None

    def list(self, limit: int = 200) -> list[QueuedText]:
        rows = self.store._all_rows(
            f"SELECT {SMS_COLUMNS} FROM sms_outbox ORDER BY id DESC LIMIT ?", limit)
        return [self._text(row) for row in rows]

    def mark_sent(self, sms_id: int, provider_id: str, at: int) -> None:
        self.store.connection().execute(
            "UPDATE sms_outbox SET status = 'sent', sent_at = ?, provider_id = ?,"
            " attempts = attempts + 1, last_error = NULL WHERE id = ?",
            (at, provider_id, sms_id))

    def mark_failed(self, sms_id: int, error: str, permanent: bool) -> None:
        self.store.connection().execute(
            "UPDATE sms_outbox SET status = ?, attempts = attempts + 1, last_error = ?"
            " WHERE id = ?", ("failed" if permanent else "pending",
                              self.store.cipher.encrypt(mask_card_numbers(error[:2000])),
                              sms_id))

    # -- test mode's reset and key rotation --------------------------------------------
    def clear_outbox(self) -> int:
        """Every queued and sent text (the phones stay, like the users they belong to)."""
        with self.store.transaction() as conn:
            return conn.execute("DELETE FROM sms_outbox").rowcount

    def reencrypt(self) -> int:
        """Phones and texts re-encrypted with the store's newest key (``stripe-sim keys
        rotate``, before it retires the old ones); the number of rows changed."""
        cipher, conn = self.store.cipher, self.store.connection()
        changed = 0
        with self.store.transaction():
            for table, key, columns in (("user_phones", "user_id", ("phone",)),
                                        ("sms_outbox", "id", ("to_number", "body",
                                                              "last_error"))):
                rows = self.store._all_rows(f"SELECT {key}, {', '.join(columns)} FROM {table}")
                for row in rows:
                    sets = ", ".join(f"{c} = ?" for c in columns)
                    conn.execute(f"UPDATE {table} SET {sets} WHERE {key} = ?",
                                 (*(cipher.encrypt(cipher.decrypt(row[c])) for c in columns),
                                  row[key]))
                changed += len(rows)
        return changed

    def _text(self, row: sqlite3.Row) -> QueuedText:
        decrypt = self.store.cipher.decrypt
        return QueuedText(
            id=row["id"], to=decrypt(row["to_number"]) or "", text=decrypt(row["body"]) or "",
            status=row["status"], attempts=row["attempts"],
            last_error=decrypt(row["last_error"]) if row["last_error"] else None,
            provider_id=row["provider_id"], created_at=row["created_at"],
            sent_at=row["sent_at"])
