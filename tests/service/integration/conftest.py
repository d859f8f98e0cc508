"""A sandbox process per test module (clock moves, faults and chaos stay local) and a
fresh payment service per test, serving over HTTP so the sandbox can deliver to it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from integration_support import (
    ADMIN,
    ALICE,
    BOB,
    PASSWORD_HASHES,
    Marketplace,
    RecordingMailer,
    SandboxControl,
)

from harness.servers import start_sandbox
from harness.service import service_config, start_service_in_process
from simulator.common.clock import Clock
from simulator.service.adapters.stripe_gateway import StripeGateway


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxControl]:
    server = start_sandbox(tmp_path_factory.mktemp("service-sandbox"), workers=2, threads=8)
    yield SandboxControl(server)
    server.stop()


@pytest.fixture
def market(sandbox: SandboxControl, tmp_path: object) -> Iterator[Marketplace]:
    sandbox.clear_faults()
    config = service_config(str(tmp_path), sandbox.url, circuit_failure_threshold=5,
                            circuit_reset_seconds=60, stripe_timeout_seconds=5.0,
                            follow_sandbox_clock=True)
    clock = Clock()
    clock.advance(sandbox.offset())  # the sandbox's clock may have been moved already
    sleeps: list[float] = []
    gateway = StripeGateway(config, clock, sleep=sleeps.append)
    mailer = RecordingMailer()
    service = start_service_in_process(config, clock=clock, gateway=gateway, mailer=mailer)
    with service.runtime.repo.transaction():
        for user in (ALICE, BOB, ADMIN):
            service.runtime.repo.add_user(user)
            service.runtime.repo.set_password_hash(user.id, PASSWORD_HASHES[user.id])
    yield Marketplace(sandbox, service, clock, mailer, sleeps)
    service.stop()
    sandbox.clear_faults()
