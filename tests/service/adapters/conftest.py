"""Fixtures for the adapters: a gateway pointed at the session's sandbox, the sandbox's
fault injection and clock, and a real SMTP server on a free loopback port."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from adapters_support import (
    TEST_KEY,
    GatewayFactory,
    GatewayUnderTest,
    MailSink,
    RecordedSleep,
    Sandbox,
    SmtpServer,
    ceiling_jitter,
)
from aiosmtpd.controller import Controller

from harness.servers import RunningServer, free_port
from simulator.common.clock import Clock
from simulator.service.adapters.circuit_breaker import StateChange
from simulator.service.adapters.stripe_gateway import StripeGateway
from simulator.service.config import ServiceConfig


@pytest.fixture
def sandbox(sandbox_server: RunningServer) -> Iterator[Sandbox]:
    control = Sandbox(sandbox_server)
    control.clear_faults()
    yield control
    control.clear_faults()


@pytest.fixture
def make_gateway(sandbox: Sandbox) -> GatewayFactory:
    def make(*, real_sleep: bool = False, **settings: Any) -> GatewayUnderTest:
        config = ServiceConfig(stripe_secret_key=TEST_KEY, stripe_api_base=sandbox.url,
                               **{"stripe_timeout_seconds": 5.0, **settings})
        clock, sleep = Clock(), RecordedSleep(real=real_sleep)
        changes: list[StateChange] = []
        gateway = StripeGateway(config, clock, sleep=sleep, jitter=ceiling_jitter,
                                on_state_change=changes.append)
        return GatewayUnderTest(gateway, clock, sleep, changes)

    return make


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    sink = MailSink()
    controller = Controller(sink, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield SmtpServer("127.0.0.1", controller.port, sink)
    finally:
        controller.stop()
