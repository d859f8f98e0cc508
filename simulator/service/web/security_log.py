"""Security events as the web layer records them (the admin's "Security events" page),
through the ``SecurityLog`` use case (``service/usecases/security.py``), which says what
is one row each and what is counted, from the request's remote address.

Recording never turns an answer into an error: a database that cannot be written now
costs the record (said in the log), not the request.
"""

from __future__ import annotations

import logging
import sqlite3

from flask import request

from simulator.service.web.runtime import service_runtime

log = logging.getLogger("simulator.service.security")


def _remote() -> str:
    return request.remote_addr or ""


def record(kind: str, detail: str) -> None:
    try:
        service_runtime().security.record(kind, detail, _remote())
    except sqlite3.Error as error:
        log.error("security event %s not recorded (%s): %s", kind, error, detail)


def count(kind: str, detail: str) -> None:
    try:
        service_runtime().security.count(kind, detail, _remote())
    except sqlite3.Error as error:
        log.error("security event %s not counted (%s): %s", kind, error, detail)


def record_with_audit(kind: str, user_id: str, detail: str) -> None:
    """A security event that is also an entry of the hash-chained audit log (a sign-in,
    an administrator's action), written in one transaction."""
    try:
        service_runtime().security.record_with_audit(kind, user_id, detail, _remote())
    except sqlite3.Error as error:
        log.error("security event %s not recorded (%s): %s", kind, error, detail)
