"""Mistakes on the command line: one clear line on stderr and exit status 2, never a
traceback; ``--help`` names the defaults."""

from __future__ import annotations

import subprocess
import sys

from harness.servers import free_port


def stripe_sim(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "simulator", *args], capture_output=True,
                          text=True, timeout=60, check=False)


def test_a_command_with_no_sandbox_to_talk_to_says_so_in_one_line() -> None:
    nobody = f"http://127.0.0.1:{free_port()}"
    answer = stripe_sim("trigger", "payment_intent.succeeded", "--api-base", nobody)
    assert answer.returncode == 2
    assert answer.stderr.strip().splitlines() == [
        f"stripe-sim trigger: cannot connect: {nobody} is not answering (is it running?"
        " `stripe-sim up` starts everything)"]


def test_help_names_the_defaults() -> None:
    shown = " ".join(stripe_sim("sandbox", "--help").stdout.split())
    assert "--port PORT (default: 12111)" in shown
    assert "(default: Sandbox merchant)" in shown
    assert "(default: None)" not in shown
