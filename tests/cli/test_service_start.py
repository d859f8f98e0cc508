"""A payment service started while the sandbox is down: with an endpoint of its own
stored it starts (covered end to end in test_nothing_lost.py); without one it says in
one line what to do."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from harness.servers import free_port


def test_a_first_start_without_the_sandbox_is_refused_in_one_line(tmp_path: Path) -> None:
    nobody = f"http://127.0.0.1:{free_port()}"
    answer = subprocess.run(
        [sys.executable, "-m", "simulator.cli.service", "--port", str(free_port()),
         "--db", str(tmp_path / "service.sqlite3"), "--stripe-api-base", nobody,
         "--receipts-dir", str(tmp_path / "receipts")],
        capture_output=True, text=True, timeout=60, check=False)
    assert answer.returncode == 2, answer
    lines = answer.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in answer.stderr, answer.stderr
    assert f"the sandbox at {nobody} cannot be reached" in lines[0]
    assert "start the sandbox first" in lines[0]
