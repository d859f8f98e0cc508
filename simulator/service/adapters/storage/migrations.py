"""What a database made by an older version needs, once, at start-up: plain-text contact
details and payloads encrypted, audit entries linked into a chain, API tokens replaced
by their digest; and re-encryption with the newest key (``stripe-sim keys rotate``)."""

from __future__ import annotations

import logging

from simulator.service.adapters.storage.audit import AuditRecords, audit_entry
from simulator.service.adapters.storage.schema import (
    BLIND_INDEXES,
    ENCRYPTED,
    ENCRYPTED_AT_START,
    TABLES,
)
from simulator.service.adapters.storage.store import normalized_email
from simulator.service.domain.audit import GENESIS, link_hash
from simulator.service.domain.card_numbers import mask_card_numbers, mask_card_numbers_in_json
from simulator.service.domain.credentials import is_token_digest, token_digest

log = logging.getLogger("simulator.service.repositories")
DATA_AT_REST, DATA_AT_REST_VERSION = "data_at_rest", 1


class Migrations(AuditRecords):
    """Upgrades of stored data (run by ``Repository`` when it opens) and key rotation."""

    def _upgrade_stored_data(self) -> None:
        """What a database made by an older version needs, once: its plain-text contact
        details and payloads encrypted, and its audit entries linked into a chain."""
        if self.get_state(DATA_AT_REST) == DATA_AT_REST_VERSION:
            return
        with self.transaction():
            sealed = sum(self._reencrypt(table, only_plain=True) for table in ENCRYPTED_AT_START)
            self._chain_legacy_audit()
            self.set_state(DATA_AT_REST, DATA_AT_REST_VERSION, 0)
        if sealed:
            log.warning("encrypted %d values an older version stored in plain text", sealed)
            self.purge_free_pages()

    def reencrypt_all(self) -> int:
        """Every encrypted column re-encrypted with the newest key, and the blind indexes
        made again with it, in one transaction (``stripe-sim keys rotate``)."""
        with self.transaction():
            return sum(self._reencrypt(table, only_plain=False) for table in ENCRYPTED)

    def _reencrypt(self, table: str, *, only_plain: bool) -> int:
        """Re-encrypt one table's encrypted columns (``only_plain``: just the values
        not encrypted yet); the number of rows changed."""
        columns, key = ENCRYPTED[table], TABLES[table][1]
        where = ""
        if only_plain:
            where = "WHERE " + " OR ".join(
                f"({column} IS NOT NULL AND substr({column}, 1, 5) != 'enc1:')"
                for column in columns)
        rows = self._all_rows(f"SELECT {key}, {', '.join(columns)} FROM {table} {where}")
        for row in rows:
            values = {key: row[key], **{c: self.cipher.encrypt(
                _masked(c, self.cipher.decrypt(row[c]))) for c in columns}}
            if table in BLIND_INDEXES:
                plain, index = BLIND_INDEXES[table]
                address = self.cipher.decrypt(row[plain])
                values[index] = self.cipher.blind_index(normalized_email(address or ""))
            self._update(table, key, values)
        return len(rows)

    def _chain_legacy_audit(self) -> None:
        """Entries written before the chain existed are linked once, at the first start
        of this version (only then: afterwards an entry without a hash is a break)."""
        if self.audit_head() is not None:
            return
        previous, last_id = GENESIS, None
        rows = self._all_rows("SELECT * FROM audit_log ORDER BY id")
        for row in rows:
            if row["hash"] is not None:
                return  # chained already; ``audit verify`` judges the rest
            entry_hash = link_hash(previous, audit_entry(row))
            self.connection().execute(
                "UPDATE audit_log SET previous_hash = ?, hash = ? WHERE id = ?",
                (previous, entry_hash, row["id"]))
            previous, last_id = entry_hash, row["id"]
        if last_id is not None:
            self._set_audit_head(last_id, previous, int(rows[-1]["at"] or 0))

    def _hash_plain_api_tokens(self) -> None:
        """Tokens an older version stored in plain text are replaced by their digest."""
        rows = self._all_rows("SELECT id, api_token FROM users WHERE api_token IS NOT NULL")
        plain = [(row["id"], row["api_token"]) for row in rows
                 if row["api_token"] and not is_token_digest(row["api_token"])]
        if plain:
            with self.transaction() as conn:
                conn.executemany("UPDATE users SET api_token = ? WHERE id = ?",
                                 [(token_digest(token), user_id) for user_id, token in plain])
            log.warning("hashed %d API tokens an older version stored in plain text",
                        len(plain))


def _masked(column: str, value: str | None) -> str | None:
    """An older version's text made what this one stores: card numbers masked (not in
    addresses, which are looked up as they are)."""
    if value is None or column in ("email", "to_addr"):
        return value
    if column in ("payload", "value"):
        return mask_card_numbers_in_json(value)
    return mask_card_numbers(value)

