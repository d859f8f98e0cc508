"""Start the sandbox (and later the service) as real processes on free loopback ports."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from simulator.cli.health import wait_healthy


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class RunningServer:
    url: str
    process: subprocess.Popen[bytes]
    db_path: str
    log_path: str

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def kill(self) -> None:
        """Die at once, as a crashed server would (SIGKILL: no clean-up). The server runs
        in its own process group, so gunicorn's workers die with their master."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()


def start_sandbox(
    workdir: str | os.PathLike[str],
    *,
    port: int | None = None,
    workers: int = 2,
    threads: int = 4,
    db_path: str | None = None,
) -> RunningServer:
    """``stripe-sim sandbox`` in a subprocess, answering once healthy."""
    port = port or free_port()
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    db = db_path or str(workdir / "sandbox.sqlite3")
    log_path = str(workdir / f"sandbox-{port}.log")
    command = [
        sys.executable,
        "-m",
        "simulator",
        "sandbox",
        "--port",
        str(port),
        "--db",
        db,
        "--workers",
        str(workers),
        "--threads",
        str(threads),
    ]
    with open(log_path, "ab") as log:
        process = subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    url = f"http://127.0.0.1:{port}"
    wait_healthy(url, process, log_path)
    return RunningServer(url, process, db, log_path)
