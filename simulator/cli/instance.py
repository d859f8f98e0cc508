"""One server per port and per data file: checked before a server changes anything.

A second ``stripe-sim service`` (or ``sandbox``) on the same database would register
webhook endpoints, release the first one's claims and race its scheduler; on the same
port it would fail only after doing all that. So a server first makes sure its port is
free and takes an exclusive ``flock`` on ``<db>.instance``, held for its whole life (its
gunicorn workers inherit it; the kernel drops it when the last of them dies, SIGKILL
included). Either failing is one clear line and exit status 2.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import socket
from pathlib import Path
from typing import IO

from simulator.cli.command import CommandError


def check_port_free(host: str, port: int, what: str) -> None:
    """Bind the port as gunicorn will (``SO_REUSEADDR``, so a port a killed server
    left in TIME_WAIT is free), then let it go."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as error:
        raise CommandError(f"cannot resolve --host {host}: {error.strerror}") from None
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as error:
            reason = "is already in use" if error.errno == errno.EADDRINUSE else (
                f"cannot be bound ({error.strerror})")
            raise CommandError(f"port {port} on {host} {reason} (wanted by the {what}); is"
                               " another instance running? Stop it or choose another port."
                               ) from None


def lock_data_file(db_path: str, what: str) -> IO[str]:
    """Hold ``<db>.instance`` exclusively, or refuse: another instance owns the data.
    Keep the returned file open for as long as the server runs."""
    path = Path(f"{db_path}.instance")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(path, "a+")  # noqa: SIM115 - held open for the server's life
    except OSError as error:
        raise CommandError(f"cannot use {path}: {error.strerror}") from None
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        owner = handle.read().strip() or "another process"
        handle.close()
        raise CommandError(f"{db_path} is in use by {owner} (another {what}); two instances"
                           " must not share a database. Stop it or use another --db.") from None
    handle.seek(0)
    handle.truncate()
    handle.write(f"pid {os.getpid()}\n")
    handle.flush()
    return handle


def claim_instance(host: str, port: int, db_path: str, what: str) -> IO[str]:
    """Both checks, the port first; the lock, which the caller keeps open."""
    if Path(db_path).is_dir():
        raise CommandError(f"--db {db_path} is a folder; give a file path")
    check_port_free(host, port, what)
    return lock_data_file(db_path, what)


def release(handle: IO[str]) -> None:
    with contextlib.suppress(OSError):
        handle.close()
