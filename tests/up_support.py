"""``stripe-sim up`` run as a newcomer runs it, for the tests that need the whole job:
real processes on free ports, its banner read back, stopped with Ctrl-C."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page

from harness.pages.service import LoginPage
from simulator.cli.supervision import free_port
from simulator.service.adapters.repositories import Repository
from simulator.service.seed import DemoAccount, demo_accounts_path, read_demo_accounts

BANNER_END = "Ctrl-C stops everything"


@dataclass
class Up:
    process: subprocess.Popen[str]
    output: str
    data_dir: Path
    sandbox: str
    service: str

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGINT)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()

    def repo(self) -> Repository:
        return Repository(str(self.data_dir / "service.sqlite3"))


def start_up(data_dir: Path, *extra: str) -> Up:
    sandbox, service, smtp = free_port(), free_port(), free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "simulator", "up", "--data-dir", str(data_dir),
         "--sandbox-port", str(sandbox), "--service-port", str(service),
         "--smtp-port", str(smtp), *extra],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    assert process.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line)
        if line.startswith(BANNER_END):
            break
    output = "".join(lines)
    up = Up(process, output, data_dir, f"http://127.0.0.1:{sandbox}",
            f"http://127.0.0.1:{service}")
    if BANNER_END not in output:
        up.stop()
        pytest.fail(f"up did not start:\n{output}")
    return up



def demo_accounts(up: Up) -> list[DemoAccount]:
    return read_demo_accounts(demo_accounts_path(str(up.data_dir / "service.sqlite3")))


def signed_in(browser: Browser, up: Up, who: DemoAccount, **context: object) -> Page:
    """A new browser context signed in to the service as ``who``."""
    page = browser.new_context(**context).new_page()  # type: ignore[arg-type]
    page.set_default_timeout(20_000)
    LoginPage(page, up.service).open().sign_in(who.email, who.password)
    return page
