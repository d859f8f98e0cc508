"""Waiting for a server started as a child process to answer its health route."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import requests

SANDBOX_HEALTH = "/_sandbox/health"
SERVICE_HEALTH = "/payments/health"


class ServerFailed(RuntimeError):
    """The child exited or never became healthy; ``reason`` is its log's last line."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


def last_line(log_path: str) -> str:
    try:
        lines = Path(log_path).read_text(errors="replace").strip().splitlines()
    except OSError:
        return ""
    return lines[-1].strip() if lines else ""


def wait_healthy(url: str, process: subprocess.Popen[bytes], log_path: str, *,
                 health_path: str = SANDBOX_HEALTH, timeout: float = 30.0,
                 verify: bool | str = True) -> None:
    """Return once ``url + health_path`` answers 200; raise ``ServerFailed`` as soon as
    the process exits, or after ``timeout`` seconds. ``verify``: for an https ``url``,
    the CA bundle its certificate is checked against (requests' ``verify``)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = Path(log_path).read_text(errors="replace")[-4000:]
            raise ServerFailed(f"server exited early:\n{tail}", last_line(log_path))
        try:
            if requests.get(f"{url}{health_path}", timeout=1,
                            verify=verify).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.05)
    tail = Path(log_path).read_text(errors="replace")[-4000:]
    raise ServerFailed(f"server not healthy after {timeout}s:\n{tail}",
                       f"not healthy after {timeout:.0f} s (see {log_path})")
