"""``stripe-sim listen --forward-to``: a temporary endpoint, its secret, the CLI's lines."""

from __future__ import annotations

import queue
import signal
import subprocess
import sys
import threading

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


def test_listen_forwards_signed_events_and_cleans_up(
    sandbox: Sandbox, receiver: WebhookReceiver
) -> None:
    command = [sys.executable, "-m", "simulator", "listen", "--forward-to", receiver.url,
               "--events", "customer.created", "--api-base", sandbox.server.url,
               "--api-key", TEST_KEY, "--poll-interval", "0.05"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        lines = _lines(process)
        ready = _next_matching(lines, "Ready!")
        assert ready.endswith("(^C to quit)")
        receiver.secrets = [ready.split("signing secret is ")[1].split()[0]]

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
