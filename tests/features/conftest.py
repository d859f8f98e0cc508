"""The reference marketplace for the features: one sandbox and one payment service
process per test session (per xdist worker), a real SMTP server, and a clean slate
before every scenario (the sandbox restored to its baseline snapshot, the service's
records cleared), in milliseconds."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from harness.mailbox import MailCatcher
from harness.marketplace import Marketplace
from harness.sandbox import SandboxHandle
from harness.steps.checkout import *  # noqa: F403
from harness.steps.common import *  # noqa: F403


@pytest.fixture(scope="session")
def mail_catcher() -> Iterator[MailCatcher]:
    catcher = MailCatcher().start()
    yield catcher
    catcher.stop()


@pytest.fixture(scope="session")
def running_marketplace(stripe_sandbox: SandboxHandle | None, mail_catcher: MailCatcher,
                        tmp_path_factory: pytest.TempPathFactory) -> Iterator[Marketplace]:
    market = Marketplace(tmp_path_factory.mktemp("marketplace"), stripe_sandbox,
                         mail_catcher).start()
    if stripe_sandbox is not None:
        stripe_sandbox.snapshot("marketplace")
    yield market
    market.stop()


@pytest.fixture
def marketplace(running_marketplace: Marketplace) -> Marketplace:
    sandbox = running_marketplace.sandbox
    if sandbox is not None:
        sandbox.clear_faults()
        sandbox.restore("marketplace")
        sandbox.advance(0)  # the service takes the restored time back
    running_marketplace.reset()
    return running_marketplace
