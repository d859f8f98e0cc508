"""Security events as the web layer records them (the admin's "Security events" page).

Two kinds of record. What a signed-in person did or was refused (a sign-in, a 403, an
administrator's action) is one row each, with who and from where. What anyone can make
happen at will, as often as they like (an unsigned webhook, a form without its CSRF
token, a test route without its token, a rate limit reached), is *counted*: one row per
kind and ``BUCKET_SECONDS``, so a flood cannot fill the disk.

Recording never turns an answer into an error: a database that cannot be written now
costs the record (said in the log), not the request.
"""

from __future__ import annotations

import logging
import sqlite3

from flask import request

from simulator.service.domain.audit import AuditEntry, user_actor
from simulator.service.web.runtime import service_runtime

log = logging.getLogger("simulator.service.security")
BUCKET_SECONDS = 300


def _remote() -> str:
    return request.remote_addr or ""


def record(kind: str, detail: str) -> None:
    rt = service_runtime()
    try:
        with rt.repo.transaction():
            rt.repo.add_security_event(kind, detail[:500], _remote(), rt.clock.timestamp())
    except sqlite3.Error as error:
        log.error("security event %s not recorded (%s): %s", kind, error, detail)


def count(kind: str, detail: str) -> None:
    rt = service_runtime()
    try:
        rt.repo.count_security_event(kind, detail[:500], _remote(), rt.clock.timestamp(),
                                     BUCKET_SECONDS)
    except sqlite3.Error as error:
        log.error("security event %s not counted (%s): %s", kind, error, detail)


def record_with_audit(kind: str, user_id: str, detail: str) -> None:
    """A security event that is also an entry of the hash-chained audit log (a sign-in,
    an administrator's action), written in one transaction."""
    rt = service_runtime()
    at = rt.clock.timestamp()
    try:
        with rt.repo.transaction():
            rt.repo.add_security_event(kind, detail[:500], _remote(), at)
            rt.repo.add_audit(AuditEntry(user_actor(user_id), kind, "user", user_id, None,
                                         {"detail": detail[:500], "from": _remote()}, at))
    except sqlite3.Error as error:
        log.error("security event %s not recorded (%s): %s", kind, error, detail)
