"""``stripe-sim listen --forward-to``: a temporary endpoint, one secret across runs, the
CLI's lines, cleaned up on Ctrl-C and SIGTERM, mistakes in one line."""

from __future__ import annotations

import queue
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from webhook_sandbox import TEST_KEY, Sandbox

from simulator.cli.listen import format_attempt, new_attempt_lines
from simulator.sandbox.webhooks.receiver import WebhookReceiver


def _lines(process: subprocess.Popen[str]) -> queue.Queue[str]:
    lines: queue.Queue[str] = queue.Queue()

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.put(line.rstrip("\n"))

    threading.Thread(target=read, daemon=True).start()
    return lines


def _next_matching(lines: queue.Queue[str], text: str, timeout: float = 10) -> str:
    while True:
        line = lines.get(timeout=timeout)
        if text in line:
            return line


def _listen(sandbox: Sandbox, forward_to: str, state: Path) -> list[str]:
    return [sys.executable, "-m", "simulator", "listen", "--forward-to", forward_to,
            "--events", "customer.created", "--api-base", sandbox.server.url,
            "--api-key", TEST_KEY, "--poll-interval", "0.05", "--state", str(state)]


def _secret_of(lines: queue.Queue[str]) -> str:
    ready = _next_matching(lines, "Ready!")
    assert ready.endswith("(^C to quit)")
    return ready.split("signing secret is ")[1].split()[0]


def test_listen_forwards_signed_events_and_cleans_up(
    sandbox: Sandbox, receiver: WebhookReceiver, tmp_path: Path
) -> None:
    command = _listen(sandbox, receiver.url, tmp_path / "listen.json")
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        lines = _lines(process)
        receiver.secrets = [_secret_of(lines)]

        event = sandbox.event_for(sandbox.create_customer())
        sandbox.drain()
        sent = _next_matching(lines, "-->")
        answered = _next_matching(lines, "<--")
        assert sent.endswith(f"--> customer.created [{event}]")
        assert answered.endswith(f"<--  [200] POST {receiver.url} [{event}]")
        assert receiver.acknowledged_ids() == [event]
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=10) == 0
    endpoints = sandbox.sdk.v1.webhook_endpoints.list().data
    assert all(e.url != receiver.url for e in endpoints)


def test_a_second_run_keeps_the_secret_and_sigterm_cleans_up(
    sandbox: Sandbox, receiver: WebhookReceiver, tmp_path: Path
) -> None:
    state = tmp_path / "listen.json"
    secrets = []
    for _ in range(2):
        process = subprocess.Popen(_listen(sandbox, receiver.url, state),
                                   stdout=subprocess.PIPE, text=True)
        try:
            secrets.append(_secret_of(_lines(process)))
        finally:
            process.terminate()  # SIGTERM, as a process manager stops it
            assert process.wait(timeout=10) == 0
        endpoints = sandbox.sdk.v1.webhook_endpoints.list().data
        assert all(e.url != receiver.url for e in endpoints)
    assert secrets[0] == secrets[1] and secrets[0].startswith("whsec_")
    assert state.stat().st_mode & 0o077 == 0  # the secret is the owner's alone

    process = subprocess.Popen(_listen(sandbox, receiver.url, state), stdout=subprocess.PIPE,
                               text=True)
    try:
        lines = _lines(process)
        receiver.secrets = [_secret_of(lines)]  # the kept secret signs the deliveries
        event = sandbox.event_for(sandbox.create_customer())
        sandbox.drain()
        assert _next_matching(lines, "<--").endswith(f"<--  [200] POST {receiver.url} [{event}]")
    finally:
        process.terminate()
        assert process.wait(timeout=10) == 0


@pytest.mark.parametrize(("forward_to", "says"), [
    ("localhost:3000/webhooks", "--forward-to must be an http(s) URL"),
    ("http://127.0.0.1:9/webhooks", "no sandbox answers at http://127.0.0.1:1"),
])
def test_a_mistake_is_one_line(forward_to: str, says: str, tmp_path: Path) -> None:
    answer = subprocess.run(
        [sys.executable, "-m", "simulator", "listen", "--forward-to", forward_to,
         "--api-base", "http://127.0.0.1:1", "--state", str(tmp_path / "listen.json")],
        capture_output=True, text=True, timeout=30, check=False)
    assert answer.returncode == 2
    assert answer.stderr.count("\n") == 1 and says in answer.stderr, answer.stderr


def test_an_attempt_that_got_no_answer_prints_the_error() -> None:
    delivery = {"id": "whdel_1", "event": "evt_1", "event_type": "customer.created"}
    attempt = {"attempt": 1, "attempted_at": 0, "url": "http://localhost:9/x",
               "status_code": None, "error": "Connection error: refused"}
    assert format_attempt(attempt, delivery)[1].endswith(
        "<--  [ERROR] POST http://localhost:9/x [evt_1] Connection error: refused"
    )


def test_each_attempt_is_printed_once() -> None:
    delivery = {"id": "whdel_1", "event": "evt_1", "event_type": "customer.created",
                "attempts": [{"attempt": 1, "attempted_at": 5, "url": "u", "status_code": 500,
                              "error": None}]}
    seen: set[tuple[str, int]] = set()
    assert len(new_attempt_lines([delivery], seen)) == 2
    assert new_attempt_lines([delivery], seen) == []
