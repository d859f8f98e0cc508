"""The service's own settings by key (its webhook endpoint, the audit chain's head, test
mode's armed crash points), JSON encrypted at rest."""

from __future__ import annotations

import json
from typing import Any

from simulator.service.adapters.storage.store import Store


class StateRecords(Store):
    """``service_state``: one JSON value per key."""

    def get_state(self, key: str) -> Any:
        row = self._one("SELECT value FROM service_state WHERE key = ?", key)
        return json.loads(self.cipher.decrypt(row[0]) or "null") if row else None

    def set_state(self, key: str, value: Any, at: int) -> None:
        self.connection().execute(
            "INSERT INTO service_state (key, value, updated_at) VALUES (?, ?, ?)"
            " ON CONFLICT (key) DO UPDATE SET value = excluded.value,"
            " updated_at = excluded.updated_at",
            (key, self.cipher.encrypt(json.dumps(value)), at))
