"""The secret the test routes (``/_test/*``) ask for in ``X-Test-Token``.

``SERVICE_TEST_TOKEN`` when set; otherwise a token made once, kept owner-only (0600)
beside the database in ``<db>.test-token``, so whatever can read the database's folder
(the harness, the benchmarks, ``stripe-sim`` commands on the same machine) can find it,
and nobody else. The sandbox, which tells a following service each move of the one
clock, is given a token of its own derived from it that opens ``/_test/clock/sync`` only.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

from simulator.service.adapters.local_secrets import owner_only_secret
from simulator.service.config import ServiceConfig

HEADER = "X-Test-Token"
_CLOCK_SYNC = b"stripe-sim clock sync"


def token_path(db_path: str) -> Path:
    return Path(f"{db_path}.test-token")


def read_control_token(db_path: str) -> str | None:
    """The token of the service whose database is ``db_path`` (None if it has none yet).
    ``SERVICE_TEST_TOKEN`` in the environment wins, as it does for the service."""
    if os.environ.get("SERVICE_TEST_TOKEN"):
        return os.environ["SERVICE_TEST_TOKEN"]
    try:
        return token_path(db_path).read_text().strip() or None
    except FileNotFoundError:
        return None


def control_token(config: ServiceConfig) -> str:
    """The configured token, else the one beside the database (made on first use, by
    exclusive create, so concurrent workers agree on one)."""
    if config.test_token:
        return config.test_token
    if config.db_path == ":memory:":
        return secrets.token_urlsafe(32)
    return owner_only_secret(token_path(config.db_path))


def clock_sync_token(token: str) -> str:
    """What the sandbox sends with each clock move: good for ``/_test/clock/sync`` only."""
    return hmac.new(token.encode(), _CLOCK_SYNC, hashlib.sha256).hexdigest()
