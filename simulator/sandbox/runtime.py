"""The sandbox's long-lived parts, shared by every request of one process: the store, the
clock, id generation, fault injection and the error log."""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, field
from typing import Any

from simulator.common.clock import Clock, system_time
from simulator.common.ids import IdGenerator
from simulator.sandbox import jobs
from simulator.sandbox.context import EventSink
from simulator.sandbox.faults import Faults
from simulator.sandbox.store import Indexer, Store

log = logging.getLogger("simulator.sandbox")
CLOCK_OFFSET_KEY = "clock_offset"
CLOCK_JUMP_KEY = "clock_jump_until"  # wall-clock end of a jump's hold on background delivery


@dataclass
class SandboxConfig:
    db_path: str = ".sandbox/sandbox.sqlite3"
    public_url: str | None = None
    id_seed: int | None = None
    snapshot_dir: str | None = None
    max_body_bytes: int = 1024 * 1024
    merchant_name: str = "Sandbox merchant"
    fsync: bool = False
    run_ticker: bool = False
    tick_seconds: float = 0.5
    extra: dict[str, Any] = field(default_factory=dict)
    # The account's default API version (None: the stored one, else versions.py's default).
    default_api_version: str | None = field(
        default_factory=lambda: os.environ.get("SANDBOX_DEFAULT_API_VERSION") or None)
    # CA certificates (PEM) that webhook deliveries (and clock syncs) to https receivers
    # trust; None: the system's (certifi) bundle. A local receiver's own CA goes here.
    webhook_ca_bundle: str | None = field(
        default_factory=lambda: os.environ.get("SANDBOX_WEBHOOK_CA_BUNDLE") or None)
    # "fixtures": answer what the sandbox has no state for as stripe-mock does (fallback/).
    fallback: str | None = field(
        default_factory=lambda: os.environ.get("SANDBOX_FALLBACK") or None)


class Runtime:
    def __init__(self, config: SandboxConfig, indexer: Indexer | None = None) -> None:
        """``indexer``: how the store re-indexes an older file's objects (``Store``)."""
        self.config = config
        self.store = Store(config.db_path, fsync=config.fsync, indexer=indexer)
        self.clock = Clock(offset_source=self._clock_offset)
        self.ids = IdGenerator(config.id_seed)
        self.faults = Faults(self.store)
        # Set at start-up by the wiring (``create_app``): where this runtime's events go.
        self.event_sink: EventSink | None = None

    def _clock_offset(self) -> float:
        return float(self.store.get_meta(CLOCK_OFFSET_KEY, "0") or 0)

    def advance_clock(self, seconds: float) -> float:
        with self.store.transaction():
            offset = self._clock_offset() + seconds
            self.store.set_meta(CLOCK_OFFSET_KEY, repr(offset))
        return offset

    def hold_background_delivery(self, seconds: float) -> None:
        """While the clock jumps, deliveries are made by the jump itself, step by step;
        one signed by a background thread at one step could arrive after the receiver's
        clock moved on, and be refused as stale. ``seconds``: how long at most (0: end)."""
        until = system_time() + seconds if seconds else 0.0
        with self.store.transaction():
            self.store.set_meta(CLOCK_JUMP_KEY, repr(until))

    def background_delivery_held(self) -> bool:
        return float(self.store.get_meta(CLOCK_JUMP_KEY, "0") or 0) > system_time()

    def run_due_jobs(self, base_url: str | None = None) -> int:
        """Run every job due on the sandbox clock (the ticker, clock moves, on demand)."""
        return jobs.run_due(self.store, self.clock.now, self.ids,
                            base_url or self.public_url(""), sink=self.event_sink)

    def public_url(self, host_url: str) -> str:
        return (self.config.public_url or host_url).rstrip("/")

    def request_log_url(self, host_url: str, request_id: str) -> str:
        return f"{self.public_url(host_url)}/_sandbox/logs/{request_id}"

    def log_request_error(
        self, request_id: str, method: str, path: str, status: int, body: dict[str, Any]
    ) -> None:
        """Refused requests are kept (and logged) so that a developer can see why."""
        log.info("%s %s -> %s %s", method, path, status, body.get("error", {}).get("message"))
        if not request_id:
            return
        with self.store.transaction() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO request_log (id, created, method, path, status, body)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (request_id, self.clock.now(), method, path, status, json.dumps(body)),
            )

    def request_log(self, request_id: str) -> dict[str, Any] | None:
        row = self.store.conn.execute(
            "SELECT id, created, method, path, status, body FROM request_log WHERE id = ?",
            (request_id,),
        ).fetchone()
        if row is None:
            return None
        return {
            "id": row[0],
            "created": int(row[1]),
            "method": row[2],
            "path": row[3],
            "status": row[4],
            "response": json.loads(row[5]),
        }
