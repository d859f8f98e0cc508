"""Helpers for the adapter tests: the sandbox's control plane, a recording sleep, a
realistic Checkout Session request and an SMTP sink (imported by conftest.py and tests)."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any, cast

import requests
import stripe
from aiosmtpd.smtp import SMTP, Envelope, Session

from harness.servers import RunningServer
from simulator.common.clock import Clock
from simulator.service.adapters.circuit_breaker import StateChange
from simulator.service.adapters.stripe_gateway import StripeGateway

TEST_KEY = "sk_test_service_gateway_tests"
SESSIONS_PATH = "/v1/checkout/sessions"


class Sandbox:
    """The sandbox's control plane (not Stripe's API): faults, clock, headless payment."""

    def __init__(self, server: RunningServer) -> None:
        self.url = server.url
        self.client = stripe.StripeClient(TEST_KEY, base_addresses={"api": server.url},
                                          max_network_retries=0)

    def add_fault(self, method: str, path: str, action: str, **options: int) -> None:
        response = requests.post(f"{self.url}/_sandbox/faults", timeout=10,
                                 data={"method": method, "path": path, "action": action,
                                       **options})
        response.raise_for_status()

    def faults(self) -> list[dict[str, Any]]:
        response = requests.get(f"{self.url}/_sandbox/faults", timeout=10)
        return cast(list[dict[str, Any]], response.json()["faults"])

    def clear_faults(self) -> None:
        requests.delete(f"{self.url}/_sandbox/faults", timeout=10).raise_for_status()

    def now(self) -> int:
        return int(requests.get(f"{self.url}/_sandbox/clock", timeout=10).json()["now"])

    def pay(self, session_id: str, payment_method: str, **extra: str) -> dict[str, Any]:
        response = requests.post(
            f"{self.url}/_sandbox/checkout/sessions/{session_id}/complete", timeout=30,
            data={"payment_method": payment_method, **extra})
        assert response.status_code in (200, 402), response.text
        return cast(dict[str, Any], response.json())

    def sessions_tagged(self, marker: str) -> list[stripe.checkout.Session]:
        """Every Checkout Session carrying ``metadata[test_marker]``, from the list API."""
        listed = self.client.v1.checkout.sessions.list(params={"limit": 100})
        return [session for session in listed.auto_paging_iter()
                if (session.to_dict().get("metadata") or {}).get("test_marker") == marker]


@dataclass
class RecordedSleep:
    """The gateway's ``sleep``: records each delay; really sleeps only when ``real``."""

    real: bool = False
    delays: list[float] = field(default_factory=list)

    def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)
        if self.real:
            time.sleep(min(seconds, 10.0))


@dataclass
class GatewayUnderTest:
    gateway: StripeGateway
    clock: Clock
    sleep: RecordedSleep
    changes: list[StateChange]


GatewayFactory = Callable[..., GatewayUnderTest]


def ceiling_jitter(ceiling: float) -> float:
    """No randomness in tests: always wait the longest the backoff allows."""
    return ceiling


def checkout_params(sandbox: Sandbox, marker: str | None = None,
                    **overrides: Any) -> dict[str, Any]:
    """A realistic create: $642.00 for lot 17, expiring in an hour on the sandbox clock."""
    params: dict[str, Any] = {
        "idempotency_key": secrets.token_urlsafe(24),
        "amount": 64200,
        "currency": "usd",
        "description": "Lot 17: brass telescope",
        "customer_email": "ada@example.com",
        "success_url": "http://127.0.0.1:8000/payments/return?session_id={CHECKOUT_SESSION_ID}",
        "cancel_url": "http://127.0.0.1:8000/winnings",
        "expires_at": sandbox.now() + 3600,
        "metadata": {"payment_session_id": "ps_test", "win_id": "win_17",
                     "test_marker": marker or secrets.token_hex(8)},
        "request_three_d_secure": False,
    }
    params.update(overrides)
    return params



class MailSink:
    """An aiosmtpd handler keeping every message it accepts."""

    def __init__(self) -> None:
        self.received: list[tuple[Envelope, EmailMessage]] = []

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = cast(bytes, envelope.original_content or envelope.content)
        message = cast(EmailMessage, message_from_bytes(content, policy=policy.default))
        self.received.append((envelope, message))
        return "250 Message accepted for delivery"

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope,
                          address: str, options: list[str]) -> str:
        if address.endswith("@unknown.test"):
            return "550 5.1.1 No such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"


@dataclass
class SmtpServer:
    host: str
    port: int
    sink: MailSink


