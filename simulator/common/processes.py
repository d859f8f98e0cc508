"""Who holds a claim: a process named ``host:pid`` (optionally ``host:pid/tag`` when one
process holds several), and whether it still runs.

Claims in the database (webhook inbox events, durable jobs) carry their owner's name, so
another process can tell a claim whose owner was killed from one whose owner is merely
slow, and take it over at once instead of waiting for the lease to run out."""

from __future__ import annotations

import os
import socket


def this_process(tag: str | None = None) -> str:
    name = f"{socket.gethostname()}:{os.getpid()}"
    return f"{name}/{tag}" if tag else name


def process_alive(owner: str) -> bool:
    """Whether the process named ``owner`` still runs. One on another host (a shared
    database) or named in another way is taken to be alive: its lease decides."""
    host, _, pid = owner.partition("/")[0].rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return True
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
