"""The pytest plugin (entry point ``pytest11: stripe_sim``): what a team that installs
this package gets for testing its own Stripe integration.

Options:

- ``--stripe-backend=sandbox`` (default) or ``stripe-test`` (real Stripe test mode, with
  ``STRIPE_SECRET_KEY=sk_test_…`` and ``STRIPE_WEBHOOK_SECRET`` from ``stripe listen``).
  A live key is refused before anything runs.
- ``--stripe-api-base URL``: use a sandbox that is already running instead of starting
  one for the session.

Fixtures: ``stripe_backend``, ``stripe_sandbox`` (one per test session, with a snapshot
``stripe_sandbox_fresh`` restores in milliseconds), ``stripe_clock``, ``webhook_builder``
(needs ``webhook_url`` and ``webhook_secret`` fixtures of the project's), ``stripe_data``
(Faker builders), ``checkout_page``, and a ``browser_type_launch_args`` that finds a
Chromium by itself (``STRIPE_SIM_BROWSER``, Debian's ``/usr/bin/chromium``, or
Playwright's own) for pytest-playwright's ``page``.

Markers: ``sandbox_only`` (Gherkin tag ``@sandbox_only``) is skipped against real
Stripe with its reason; ``features`` marks the scenarios of ``features/``.
"""

from __future__ import annotations

import hashlib
import importlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from harness.clock import HarnessClock
from harness.data import DataBuilder
from harness.sandbox import SandboxHandle
from harness.servers import start_sandbox
from harness.webhooks import WebhookBuilder

BACKENDS = ("sandbox", "stripe-test")
SANDBOX_ONLY_REASON = ("needs the sandbox: real Stripe's clock, faults and deliveries"
                       " cannot be moved from a test")
BASELINE_SNAPSHOT = "stripe_sim_baseline"
LAUNCH_PLUGIN = "stripe_sim_playwright_launch"
MARKERS = {
    "features": "a pytest-bdd scenario of features/",
    "sandbox_only": "needs the local sandbox (skipped against real Stripe test mode)",
    "browser": "drives a real browser",
}


@dataclass(frozen=True)
class StripeBackend:
    name: str
    api_base: str | None  # None: real Stripe
    secret_key: str

    @property
    def is_sandbox(self) -> bool:
        return self.name == "sandbox"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("stripe-sim", "Stripe sandbox harness")
    group.addoption("--stripe-backend", choices=BACKENDS,
                    default=os.environ.get("STRIPE_BACKEND", "sandbox"),
                    help="run against the local sandbox (default) or Stripe test mode")
    group.addoption("--stripe-api-base", default=None,
                    help="a running sandbox's URL (default: start one for the session)")


def pytest_configure(config: pytest.Config) -> None:
    for name, text in MARKERS.items():
        config.addinivalue_line("markers", f"{name}: {text}")
    # Registered now, after pytest-playwright, so that this launch-options fixture is
    # the one its ``browser`` uses.
    if not config.pluginmanager.has_plugin(LAUNCH_PLUGIN):
        config.pluginmanager.register(importlib.import_module("harness.playwright_launch"),
                                      LAUNCH_PLUGIN)
    refusal = live_key_refusal(config.getoption("--stripe-backend"),
                               os.environ.get("STRIPE_SECRET_KEY", ""))
    if refusal:
        pytest.exit(refusal, returncode=4)


def live_key_refusal(backend: str, key: str) -> str | None:
    """Why the run must not start, or None. Checked before any test runs."""
    if key.startswith(("sk_live_", "rk_live_")):
        return "refusing to run with a live Stripe key: use a test key (sk_test_...)"
    if backend == "stripe-test" and not key.startswith(("sk_test_", "rk_test_")):
        return "--stripe-backend=stripe-test needs STRIPE_SECRET_KEY=sk_test_..."
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--stripe-backend") == "sandbox":
        return
    skip = pytest.mark.skip(reason=SANDBOX_ONLY_REASON)
    for item in items:
        if item.get_closest_marker("sandbox_only"):
            item.add_marker(skip)


# -- fixtures ----------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def stripe_backend(pytestconfig: pytest.Config) -> StripeBackend:
    name = pytestconfig.getoption("--stripe-backend")
    if name == "stripe-test":
        return StripeBackend(name, None, os.environ["STRIPE_SECRET_KEY"])
    return StripeBackend(name, pytestconfig.getoption("--stripe-api-base"),
                         "sk_test_stripe_sim_harness")


@pytest.fixture(scope="session")
def stripe_sandbox(stripe_backend: StripeBackend,
                   tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxHandle | None]:
    """The session's sandbox (None against real Stripe), with a baseline snapshot."""
    if not stripe_backend.is_sandbox:
        yield None
        return
    if stripe_backend.api_base:
        yield SandboxHandle(stripe_backend.api_base)
        return
    server = start_sandbox(tmp_path_factory.mktemp("stripe-sandbox"), workers=2, threads=4)
    try:
        yield SandboxHandle(server.url)
    finally:
        server.stop()


@pytest.fixture
def stripe_sandbox_fresh(stripe_sandbox: SandboxHandle | None) -> SandboxHandle | None:
    """The sandbox as it was at the baseline snapshot (taken at first use): objects,
    webhook endpoints and clock. Restoring takes milliseconds."""
    if stripe_sandbox is None:
        return None
    if not getattr(stripe_sandbox, "baseline_taken", False):
        stripe_sandbox.snapshot(BASELINE_SNAPSHOT)
        stripe_sandbox.baseline_taken = True  # type: ignore[attr-defined]
    else:
        stripe_sandbox.restore(BASELINE_SNAPSHOT)
    return stripe_sandbox


@pytest.fixture
def stripe_clock(stripe_sandbox: SandboxHandle | None) -> Iterator[HarnessClock]:
    """The sandbox's clock (with every server following it). A project on real Stripe
    overrides this fixture with its own service clock."""
    if stripe_sandbox is None:
        pytest.skip(SANDBOX_ONLY_REASON)
    clock = HarnessClock(lambda seconds: float(stripe_sandbox.advance(seconds)["now_float"]),
                         stripe_sandbox.now)
    yield clock
    clock.unfreeze()


@pytest.fixture
def stripe_data(request: pytest.FixtureRequest) -> DataBuilder:
    """Faker builders seeded by the test's id: the same names and amounts on a rerun."""
    seed = int(hashlib.sha256(request.node.nodeid.encode()).hexdigest()[:8], 16)
    return DataBuilder(seed)


@pytest.fixture
def webhook_builder(webhook_url: str, webhook_secret: str) -> WebhookBuilder:
    """Signed (or tampered, aged, replayed) deliveries to the project's endpoint; the
    project provides ``webhook_url`` and ``webhook_secret`` fixtures."""
    return WebhookBuilder(webhook_url, webhook_secret)


@pytest.fixture
def checkout_page(page: Any) -> Any:
    from harness.pages.checkout import CheckoutPage

    return CheckoutPage(page)
