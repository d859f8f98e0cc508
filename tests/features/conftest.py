"""The reference marketplace for the features: one sandbox and one payment service
process per test session (per xdist worker), a real SMTP server, and a clean slate
before every scenario (the sandbox restored to its baseline snapshot, the service's
records cleared), in milliseconds."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

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


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """Keep each phase's report on the item, for fixtures to see how the test went."""
    report = yield
    item.stash.setdefault(PHASES, {})[report.when] = report
    return report


PHASES = pytest.StashKey[dict[str, pytest.TestReport]]()


@pytest.fixture
def marketplace(running_marketplace: Marketplace,
                request: pytest.FixtureRequest) -> Iterator[Marketplace]:
    sandbox = running_marketplace.sandbox
    if sandbox is not None:
        sandbox.clear_faults()
        sandbox.restore("marketplace")
        sandbox.advance(0)  # the service takes the restored time back
    running_marketplace.reset()
    log_from = _log_position(running_marketplace)
    yield running_marketplace
    call = request.node.stash.get(PHASES, {}).get("call")
    if call is not None and call.failed:
        _keep_service_log(running_marketplace, log_from, request)


def _log_position(market: Marketplace) -> tuple[str, int]:
    path = market.server.log_path if market.server else ""
    return path, Path(path).stat().st_size if path and Path(path).exists() else 0


def _keep_service_log(market: Marketplace, start: tuple[str, int],
                      request: pytest.FixtureRequest) -> None:
    """What the payment service logged during a failed scenario, beside its Playwright
    trace (a restarted service's whole new log)."""
    path, offset = start
    current = market.server.log_path if market.server else ""
    if not current or not Path(current).exists():
        return
    with open(current, "rb") as log:
        log.seek(offset if current == path else 0)
        text = log.read()
    folder = Path(str(request.config.getoption("output", "test-results"))) / "service-logs"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{request.node.name[:150]}.log").write_bytes(text)
