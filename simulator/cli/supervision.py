"""Servers run as real processes on free loopback ports, and stopped again: what the load
command, the benchmarks and the test harness share (the harness imports this; product
code never imports the harness)."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from simulator.cli.health import SANDBOX_HEALTH, wait_healthy

LOOPBACK = "127.0.0.1"
STOP_GRACE_SECONDS = 10.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


@dataclass
class RunningServer:
    url: str
    process: subprocess.Popen[bytes]
    db_path: str
    log_path: str

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])

    def stop(self) -> None:
        """Asked to stop, then SIGKILL if it has not gone within 10 s."""
        self.terminate()
        self.wait()

    def terminate(self) -> None:
        """A server in a process group of its own gets SIGINT on the whole group
        (gunicorn's quick shutdown, which every worker hears); one started in ours gets
        SIGTERM on its own process only."""
        if self.process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            if self._leads_its_group():
                os.killpg(self.process.pid, signal.SIGINT)
            else:
                self.process.terminate()

    def wait(self) -> None:
        if self.process.poll() is not None:
            return
        try:
            self.process.wait(timeout=STOP_GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            self.kill()

    def kill(self) -> None:
        """Die at once, as a crashed server would (SIGKILL: no clean-up), workers too
        when it leads its own process group."""
        with contextlib.suppress(ProcessLookupError):
            if self._leads_its_group():
                os.killpg(self.process.pid, signal.SIGKILL)
            else:
                self.process.kill()
        self.process.wait()

    def _leads_its_group(self) -> bool:
        try:
            return os.getpgid(self.process.pid) == self.process.pid
        except ProcessLookupError:
            return False


def spawn(command: list[str], log_path: str | os.PathLike[str],
          env: dict[str, str] | None = None, *,
          own_group: bool = True) -> subprocess.Popen[bytes]:
    """``command`` with its output appended to ``log_path``; in a process group of its own
    unless told otherwise, so stopping it reaches every worker."""
    with open(log_path, "ab") as log:
        return subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env,
                                start_new_session=own_group)


def wait_until_healthy(server: RunningServer, health_path: str = SANDBOX_HEALTH) -> None:
    """Return once the server answers; stop it and re-raise if it never does."""
    try:
        wait_healthy(server.url, server.process, server.log_path, health_path=health_path)
    except BaseException:
        server.stop()
        raise


def start_sandbox(workdir: str | os.PathLike[str], *, port: int | None = None,
                  workers: int = 2, threads: int = 4, db_path: str | None = None,
                  extra_args: Sequence[str] = ()) -> RunningServer:
    """``stripe-sim sandbox`` in a subprocess on ``port`` (a free one by default),
    answering once healthy; ``extra_args`` are more of its options."""
    folder = Path(workdir)
    folder.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    db = db_path or str(folder / "sandbox.sqlite3")
    log_path = str(folder / f"sandbox-{port}.log")
    process = spawn([sys.executable, "-m", "simulator", "sandbox", "--host", LOOPBACK,
                     "--port", str(port), "--db", db, "--workers", str(workers),
                     "--threads", str(threads), *extra_args], log_path)
    server = RunningServer(f"http://{LOOPBACK}:{port}", process, db, log_path)
    wait_until_healthy(server)
    return server
