"""pytest-playwright's browser launch options, with a Chromium found on this machine
(``STRIPE_SIM_BROWSER``, Debian's ``/usr/bin/chromium``, else Playwright's own) and the
flags that keep it off a closed network. Registered by ``harness.plugin`` at configure
time, after pytest-playwright, so that this fixture is the one its ``browser`` uses."""

from __future__ import annotations

from typing import Any

import pytest

from harness.browser import LAUNCH_ARGS, find_chromium


@pytest.fixture(scope="session")
def browser_type_launch_args(pytestconfig: pytest.Config) -> dict[str, Any]:
    """pytest-playwright's launch options, with a Chromium found on this machine and the
    flags that keep it off a closed network. ``--headed`` and ``--browser-channel`` work
    as pytest-playwright documents them."""
    args: dict[str, Any] = {"args": list(LAUNCH_ARGS)}
    if pytestconfig.getoption("--headed", False):
        args["headless"] = False
    channel = pytestconfig.getoption("--browser-channel", None)
    if channel:
        args["channel"] = channel
    elif (executable := find_chromium()) is not None:
        args["executable_path"] = executable
    slowmo = pytestconfig.getoption("--slowmo", 0)
    if slowmo:
        args["slow_mo"] = slowmo
    return args
