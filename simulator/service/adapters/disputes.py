"""Disputes in the service's database: one row per Stripe dispute, replaced by each
newer report (the ``disputes`` table is declared with the rest of the schema in
``repositories.py``)."""

from __future__ import annotations

import sqlite3
from dataclasses import asdict, fields

from simulator.service.adapters.storage.store import Store
from simulator.service.domain.dispute import Dispute

DISPUTE_FIELDS = tuple(f.name for f in fields(Dispute))


class DisputeRecords:
    """Reads and writes of the ``disputes`` table on the store's connection, so they
    join whatever transaction the caller holds."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def get(self, dispute_id: str) -> Dispute | None:
        return _dispute(self.store._one("SELECT * FROM disputes WHERE id = ?", dispute_id))

    def save(self, dispute: Dispute) -> None:
        values = asdict(dispute)
        columns = ", ".join(values)
        updates = ", ".join(f"{c} = excluded.{c}" for c in values if c != "id")
        self.store.connection().execute(
            f"INSERT INTO disputes ({columns}) VALUES ({', '.join(':' + c for c in values)})"
            f" ON CONFLICT(id) DO UPDATE SET {updates}", values)

    def for_transaction(self, transaction_id: str) -> list[Dispute]:
        rows = self.store._all_rows(
            "SELECT * FROM disputes WHERE transaction_id = ? ORDER BY opened_at, id",
            transaction_id)
        return [d for row in rows if (d := _dispute(row)) is not None]

    def open_disputes(self) -> list[Dispute]:
        rows = self.store._all_rows(
            "SELECT * FROM disputes WHERE status NOT IN"
            " ('warning_closed', 'won', 'lost', 'prevented') ORDER BY evidence_due_by, id")
        return [d for row in rows if (d := _dispute(row)) is not None]

    def transaction_id_for_charge(self, charge_id: str) -> str | None:
        row = self.store._one("SELECT id FROM transactions WHERE charge_id = ?", charge_id)
        return str(row["id"]) if row is not None else None


def _dispute(row: sqlite3.Row | None) -> Dispute | None:
    if row is None:
        return None
    return Dispute(**{name: row[name] for name in DISPUTE_FIELDS})
