"""Servers as real processes on free loopback ports: the product's own supervision
(``simulator.cli.supervision``), under the names the harness has always offered."""

from __future__ import annotations

from simulator.cli.supervision import RunningServer, free_port, spawn, start_sandbox

__all__ = ["RunningServer", "free_port", "spawn", "start_sandbox"]
