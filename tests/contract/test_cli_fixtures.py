"""The Stripe CLI's trigger fixtures (the request sequences behind ``stripe trigger``)
replayed against a running sandbox exactly as the CLI sends them
(:mod:`simulator.sandbox.fixture_replay`): every in-scope fixture's requests succeed and
produce the event it is named after. The fixtures are read from ``../shared`` (or
``$STRIPE_CLI_FIXTURES``), never copied into the project.

``pytest tests/contract/test_cli_fixtures.py -s`` also prints the count over all of them.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from harness.servers import RunningServer
from simulator.sandbox import fixture_replay as replay

ROOT = Path(__file__).resolve().parents[2]
FOLDER = Path(os.environ.get("STRIPE_CLI_FIXTURES")
              or ROOT.parent / "shared" / "reference" / "stripe-cli-fixtures")

if not FOLDER.is_dir():
    pytest.skip(f"the Stripe CLI's fixtures are not at {FOLDER} (set STRIPE_CLI_FIXTURES)",
                allow_module_level=True)

IN_SCOPE = ("checkout.session.", "payment_intent.", "charge.", "customer.",
            "payment_method.", "setup_intent.", "product.", "price.", "coupon.",
            "cash_balance.")
OUT_OF_SCOPE = ("customer.subscription.", "customer.discount.")
# In-scope fixtures that need what the sandbox does not have yet, and what that is
# (none today: every in-scope fixture passes).
LATER: dict[str, str] = {}


def in_scope(name: str) -> bool:
    return name.startswith(IN_SCOPE) and not name.startswith(OUT_OF_SCOPE)


FIXTURES = replay.fixture_files(FOLDER)
SCOPED = [p for p in FIXTURES if in_scope(p.stem)]


@pytest.fixture(scope="module")
def transport(sandbox_server: RunningServer) -> replay.Transport:
    return replay.http_transport(sandbox_server.url)


@pytest.mark.parametrize("path", SCOPED, ids=[p.stem for p in SCOPED])
def test_in_scope_fixture_passes(transport: replay.Transport, path: Path) -> None:
    if path.stem in LATER:
        pytest.skip(LATER[path.stem])
    result = replay.replay(replay.load_fixture(path), transport)
    assert result.passed, result.reason


def test_every_fixture_is_counted(transport: replay.Transport) -> None:
    """All of them, in or out of scope: the count is printed, and at least every in-scope
    fixture that is not left for later passes."""
    results = replay.replay_all(FIXTURES, transport)
    print("\n" + replay.summary(results))
    passed = {r.fixture for r in results if r.passed}
    expected = {p.stem for p in SCOPED} - set(LATER)
    assert expected <= passed
    assert len(results) == len(FIXTURES)
