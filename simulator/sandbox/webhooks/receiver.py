"""A local webhook receiver that does what a real one must: verify every delivery's
``Stripe-Signature`` with the official SDK (``stripe.Webhook.construct_event``) before
using it, answer 400 when it doesn't verify, and record what arrived.

Used by the delivery tests, the webhook benchmark and demos. It can answer scripted
statuses (``[500, 500]`` then 200) and take a while to answer (a slow endpoint).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import stripe

from simulator.common.clock import monotonic


@dataclass(frozen=True)
class Received:
    """One request as the receiver saw it."""

    event_id: str | None
    event_type: str | None
    payload: str
    headers: dict[str, str]
    verified: bool
    error: str | None
    status: int
    arrived: float  # monotonic()

    @property
    def event(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.payload)
        return data


class WebhookReceiver:
    """A threaded HTTP server on 127.0.0.1 (a free port) accepting POSTs on any path."""

    def __init__(
        self,
        secrets: Sequence[str] = (),
        *,
        statuses: Sequence[int] = (),
        delay_seconds: float = 0.0,
        tolerance: int = 300,
    ) -> None:
        self.secrets = list(secrets)
        self.statuses = list(statuses)
        self.delay_seconds = delay_seconds
        self.tolerance = tolerance
        self.received: list[Received] = []
        self.arrivals = 0
        self._changed = threading.Condition()
        self._server = _QuietServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        name="webhook-receiver", daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/webhooks"

    def __enter__(self) -> WebhookReceiver:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    # -- what arrived ---------------------------------------------------------------------
    def verified(self) -> list[Received]:
        with self._changed:
            return [r for r in self.received if r.verified]

    def acknowledged_ids(self) -> list[str]:
        """Event ids answered with a 2xx, in arrival order (duplicates kept)."""
        with self._changed:
            return [r.event_id for r in self.received if 200 <= r.status < 300 and r.event_id]

    def wait_until(self, condition: Callable[[WebhookReceiver], bool],
                   timeout: float = 10.0) -> bool:
        """Block until ``condition(self)`` holds after a request, or ``timeout`` passes."""
        with self._changed:
            return self._changed.wait_for(lambda: condition(self), timeout)

    # -- answering ------------------------------------------------------------------------
    def _arrived(self) -> None:
        with self._changed:
            self.arrivals += 1
            self._changed.notify_all()

    def _answer(self, payload: str, headers: dict[str, str]) -> tuple[int, str]:
        event, error = self._verify(payload, headers.get("Stripe-Signature", ""))
        with self._changed:
            status = 400 if event is None else (self.statuses.pop(0) if self.statuses else 200)
        if self.delay_seconds:
            threading.Event().wait(self.delay_seconds)
        record = Received(
            event.get("id") if event else None, event.get("type") if event else None,
            payload, headers, event is not None, error, status, monotonic(),
        )
        with self._changed:
            self.received.append(record)
            self._changed.notify_all()
        body = {"received": True} if status < 300 else {"error": error or "scripted failure"}
        return status, json.dumps(body)

    def _verify(self, payload: str, header: str) -> tuple[dict[str, Any] | None, str | None]:
        """The event if any configured secret verifies the signature (and timestamp)."""
        error = "no signing secret configured"
        for secret in self.secrets:
            try:
                event = stripe.Webhook.construct_event(payload, header, secret, self.tolerance)
            except (stripe.SignatureVerificationError, ValueError) as exc:
                error = str(exc)
                continue
            return event.to_dict(), None
        return None, error


class _QuietServer(ThreadingHTTPServer):
    # Room for every sender thread's connection at once: with the default backlog of 5,
    # dropped SYNs are retried after a full second.
    request_queue_size = 128

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A sender that hung up (a killed sandbox, a timeout) is not our error."""


def _handler_for(receiver: WebhookReceiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # answer at once, not after a delayed ACK

        def do_POST(self) -> None:
            receiver._arrived()
            length = int(self.headers.get("Content-Length") or 0)
            payload = self.rfile.read(length).decode("utf-8")
            status, body = receiver._answer(payload, dict(self.headers.items()))
            data = body.encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            return

    return Handler
