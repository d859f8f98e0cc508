"""One server per port and per database: refused in one line, before anything changes."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest

from harness.servers import free_port
from simulator.cli.command import CommandError
from simulator.cli.instance import claim_instance, release


def test_a_taken_port_is_refused_in_one_line(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(CommandError, match=f"port {port} on 127.0.0.1 is already in use"):
            claim_instance("127.0.0.1", port, str(tmp_path / "db.sqlite3"), "sandbox")
    assert not (tmp_path / "db.sqlite3.instance").exists()  # refused before anything


def test_a_database_another_instance_holds_is_refused(tmp_path: Path) -> None:
    db = str(tmp_path / "service.sqlite3")
    first = claim_instance("127.0.0.1", free_port(), db, "payment service")
    try:
        with pytest.raises(CommandError, match=r"is in use by pid \d+ \(another payment service\)"):
            claim_instance("127.0.0.1", free_port(), db, "payment service")
    finally:
        release(first)
    release(claim_instance("127.0.0.1", free_port(), db, "payment service"))  # free again


def test_a_folder_given_as_database_is_refused(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="is a folder"):
        claim_instance("127.0.0.1", free_port(), str(tmp_path), "sandbox")


def test_the_command_line_prints_one_line_and_exits_2(tmp_path: Path) -> None:
    db = str(tmp_path / "service.sqlite3")
    held = claim_instance("127.0.0.1", free_port(), db, "payment service")
    try:
        done = subprocess.run(
            [sys.executable, "-m", "simulator", "service", "--port", str(free_port()),
             "--db", db], capture_output=True, text=True, timeout=60)
    finally:
        release(held)
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0 and "Traceback" not in done.stderr
    assert done.stderr.startswith("stripe-sim service: ")
    assert "two instances must not share a database" in done.stderr
