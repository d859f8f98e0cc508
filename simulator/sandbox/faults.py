"""Fault injection: the next N requests matching a method and path answer an error, are
delayed, or lose their connection, so clients' retry logic can be exercised.

Faults live in the database so that every server process honours them.
"""

from __future__ import annotations

import fnmatch
import time
from dataclasses import asdict, dataclass
from typing import Any, Literal

from simulator.sandbox.errors import ApiError, RateLimitError, StripeError
from simulator.sandbox.store import Store

Action = Literal["error", "rate_limit", "delay", "drop", "delay_after_claim"]
ACTIONS: tuple[str, ...] = ("error", "rate_limit", "delay", "drop", "delay_after_claim")


@dataclass
class Fault:
    id: int
    method: str
    path: str
    action: str
    remaining: int
    status: int = 500
    retry_after: int = 1
    delay_ms: int = 0

    def matches(self, method: str, path: str) -> bool:
        return (self.method in ("*", method.upper())) and fnmatch.fnmatchcase(path, self.path)


class ConnectionDrop(Exception):
    """Raised to make the server close the connection without an answer."""


class Faults:
    def __init__(self, store: Store) -> None:
        self.store = store

    def add(self, method: str, path: str, action: str, count: int = 1, status: int = 500,
            retry_after: int = 1, delay_ms: int = 0) -> Fault:
        with self.store.transaction() as conn:
            cursor = conn.execute(
                "INSERT INTO faults (method, path, action, remaining, status, retry_after,"
                " delay_ms) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (method.upper(), path, action, count, status, retry_after, delay_ms),
            )
        return Fault(int(cursor.lastrowid or 0), method.upper(), path, action, count, status,
                     retry_after, delay_ms)

    def list(self) -> list[dict[str, Any]]:
        rows = self.store.conn.execute(
            "SELECT id, method, path, action, remaining, status, retry_after, delay_ms"
            " FROM faults WHERE remaining > 0 ORDER BY id"
        ).fetchall()
        return [asdict(Fault(*row)) for row in rows]

    def clear(self) -> None:
        with self.store.transaction() as conn:
            conn.execute("DELETE FROM faults")

    def armed(self) -> bool:
        """Whether any fault is waiting for a request (a cheap check on every request)."""
        row = self.store.conn.execute("SELECT 1 FROM faults WHERE remaining > 0 LIMIT 1")
        return row.fetchone() is not None

    def _take(self, method: str, path: str, phase: str) -> Fault | None:
        if not self.armed():
            return None
        with self.store.transaction() as conn:
            rows = conn.execute(
                "SELECT id, method, path, action, remaining, status, retry_after, delay_ms"
                " FROM faults WHERE remaining > 0 ORDER BY id"
            ).fetchall()
            for row in rows:
                fault = Fault(*row)
                in_phase = (fault.action == "delay_after_claim") == (phase == "after_claim")
                if in_phase and fault.matches(method, path):
                    conn.execute("UPDATE faults SET remaining = remaining - 1 WHERE id = ?",
                                 (fault.id,))
                    return fault
        return None

    def before_request(self, method: str, path: str) -> None:
        fault = self._take(method, path, "before")
        if fault is None:
            return
        if fault.action == "delay":
            time.sleep(fault.delay_ms / 1000)
        elif fault.action == "drop":
            raise ConnectionDrop()
        elif fault.action == "rate_limit":
            raise RateLimitError(headers={"Retry-After": str(fault.retry_after)})
        elif fault.action == "error":
            raise _server_error(fault.status)

    def after_claim(self, method: str, path: str) -> None:
        """Hold a request after it claimed its idempotency key (to test in-flight 409s)."""
        fault = self._take(method, path, "after_claim")
        if fault is not None:
            time.sleep(fault.delay_ms / 1000)


def _server_error(status: int) -> StripeError:
    error = ApiError(
        "An unknown error occurred (injected by the sandbox's fault injection).",
        status=status,
    )
    error.headers["Stripe-Should-Retry"] = "true"
    return error


