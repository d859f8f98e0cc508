"""Secrets a service makes for itself and keeps beside its database, owner-only (0600):
the test routes' token (``<db>.test-token``) and the key that signs sign-in cookies and
receipt links (``<db>.session-key``), so that a restart neither signs everyone out nor
breaks the links already mailed. A value from the environment always wins."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from simulator.service.config import ServiceConfig


def owner_only_secret(path: Path) -> str:
    """The secret in ``path``, made on first use by exclusive create, so concurrent
    workers agree on one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        existing = path.read_text().strip()
        if existing:
            return existing
        fd = os.open(path, os.O_WRONLY | os.O_TRUNC, 0o600)
    made = secrets.token_urlsafe(32)
    with os.fdopen(fd, "w") as file:
        file.write(made)
    return made


def session_key_path(db_path: str) -> Path:
    return Path(f"{db_path}.session-key")


def session_secret(config: ServiceConfig) -> str:
    """``SERVICE_SESSION_SECRET`` when set; else the key beside the database (a fresh
    one per process for an in-memory database, which has nothing to survive)."""
    if config.session_secret:
        return config.session_secret
    if config.db_path == ":memory:":
        return secrets.token_hex(32)
    return owner_only_secret(session_key_path(config.db_path))
