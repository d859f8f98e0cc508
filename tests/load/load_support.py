"""Running ``stripe-sim load`` as a real process, against servers it starts or given ones."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from simulator.bench.servers import Stack

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT_SECONDS = 120


@dataclass
class Finished:
    status: int
    output: str


def stripe_sim_load(args: Sequence[str], env: dict[str, str] | None = None) -> Finished:
    done = subprocess.run([sys.executable, "-m", "simulator", "load", *args], cwd=ROOT,
                          env={**os.environ, **(env or {})}, capture_output=True, text=True,
                          timeout=TIMEOUT_SECONDS, check=False)
    return Finished(done.returncode, done.stdout + done.stderr)


def start_load(args: Sequence[str]) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "simulator", "load", *args], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def against(stack: Stack, *args: str) -> Finished:
    """``stripe-sim load`` against the given stack, a short run with few users."""
    return stripe_sim_load(
        ["--service-url", stack.service.url, "--sandbox-url", stack.sandbox.url,
         "--service-db", stack.service.server.db_path, "--settle-seconds", "5", *args],
        env={"AUCTION_API_TOKEN": stack.service.auction_token})
