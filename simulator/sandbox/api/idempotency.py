"""Idempotent requests (https://docs.stripe.com/api/idempotent_requests).

A POST claims its key, runs and stores its result in one write transaction, so a replay
returns exactly what was committed and a concurrent request with the same key waits for
the write lock and then replays. Because the sandbox's operations hold the write lock
from start to end, a request is never observably "in flight"; Stripe's 409 for a key
still in flight appears when a request is held between its claim and its operation,
which the ``delay_after_claim`` fault does on purpose. Results are kept 24 hours on the
sandbox clock. As on Stripe, nothing is saved when the request fails validation: the
transaction rolls back and the key may be used again.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from simulator.common.clock import system_time
from simulator.sandbox import codec
from simulator.sandbox.errors import IdempotencyError, InvalidRequestError, StripeError
from simulator.sandbox.store import Store

MAX_KEY_LENGTH = 255
RETENTION_SECONDS = 24 * 3600
# A claim older than this belongs to a request whose process died; it may be taken over.
ABANDONED_AFTER_SECONDS = 60.0


@dataclass(frozen=True)
class StoredResponse:
    status: int
    body: dict[str, Any]
    request_id: str


def fingerprint(method: str, path: str, pairs: list[tuple[str, str]]) -> str:
    digest = hashlib.sha256(f"{method} {path}\n".encode())
    for key, value in sorted(pairs):
        digest.update(f"{key}={value}\n".encode())
    return digest.hexdigest()


def check_key(key: str) -> None:
    if not 1 <= len(key) <= MAX_KEY_LENGTH:
        raise InvalidRequestError(
            f"Idempotent key length is {len(key)}, which is outside accepted lengths. Idempotent"
            " Keys must be 1-255 characters long. If you're looking for a decent generator, try"
            " using a UUID defined by IETF RFC 4122.",
            param="Idempotency-Key",
        )


def claim(
    store: Store, key: str, endpoint: str, print_: str, now: float, request_id: str
) -> StoredResponse | None:
    """Claim ``key`` for this request, or return the response to replay.

    Raises ``IdempotencyError`` when the key was used with other parameters or another
    endpoint, and a 409 when a request holding it is still running.
    """
    with store.transaction() as conn:
        row = conn.execute(
            "SELECT fingerprint, endpoint, status, created, claimed_at, response_status,"
            " response_body, request_id FROM idempotency_keys WHERE key = ?",
            (key,),
        ).fetchone()
        if row is not None and row[3] >= now - RETENTION_SECONDS:
            stored = _existing(key, endpoint, print_, row)
            if stored is not None:
                return stored
        conn.execute(
            "INSERT INTO idempotency_keys (key, fingerprint, endpoint, status, created, claimed_at,"
            " request_id) VALUES (?, ?, ?, 'in_flight', ?, ?, ?) ON CONFLICT(key) DO UPDATE SET"
            " fingerprint=excluded.fingerprint, endpoint=excluded.endpoint, status='in_flight',"
            " created=excluded.created, claimed_at=excluded.claimed_at, response_status=NULL,"
            " response_body=NULL, request_id=excluded.request_id",
            (key, print_, endpoint, now, system_time(), request_id),
        )
    return None


def _existing(key: str, endpoint: str, print_: str, row: tuple[Any, ...]) -> StoredResponse | None:
    stored_print, stored_endpoint, status, _created, claimed_at, code, body, request_id = row
    if stored_endpoint != endpoint:
        raise IdempotencyError(
            "Keys for idempotent requests can only be used for the same endpoint they were first"
            f" used for ('{endpoint}' vs '{stored_endpoint}'). Try using a key other than"
            f" '{key}' if you meant to execute a different request."
        )
    if stored_print != print_:
        raise IdempotencyError(
            "Keys for idempotent requests can only be used with the same parameters they were"
            f" first used with. Try using a key other than '{key}' if you meant to execute a"
            " different request."
        )
    if status == "in_flight":
        if system_time() - claimed_at > ABANDONED_AFTER_SECONDS:
            return None
        raise StripeError(
            "There is currently another in-progress request using this Idempotent Key (that"
            " probably means you submitted twice, and the other request is still going"
            f" through): {key}. Please try again later.",
            code="idempotency_key_in_use",
            status=409,
        )
    return StoredResponse(code, codec.loads(body), request_id)


def complete(store: Store, key: str, status: int, body: bytes) -> None:
    """Record the response (its JSON, as answered); call inside the operation's own
    transaction."""
    store.conn.execute(
        "UPDATE idempotency_keys SET status='done', response_status=?, response_body=?"
        " WHERE key = ?",
        (status, body.decode(), key),
    )


def release(store: Store, key: str) -> None:
    with store.transaction() as conn:
        conn.execute("DELETE FROM idempotency_keys WHERE key = ? AND status = 'in_flight'", (key,))


def purge_expired(store: Store, now: float) -> int:
    with store.transaction() as conn:
        cursor = conn.execute(
            "DELETE FROM idempotency_keys WHERE created < ?", (now - RETENTION_SECONDS,)
        )
    return cursor.rowcount
