"""Find a Chromium the harness can drive, without Playwright's own download.

Order: ``STRIPE_SIM_BROWSER`` (or ``PLAYWRIGHT_CHROMIUM_EXECUTABLE``), Debian's
``/usr/bin/chromium``, other usual places, then Playwright's bundled browser if one was
installed. The launch flags keep Chromium off the network it would otherwise try to
reach at start (updates, sync), which a closed machine refuses.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

CANDIDATES = (
    "/usr/bin/chromium",
    "/usr/bin/chromium-browser",
    "/usr/bin/google-chrome",
    "/usr/bin/google-chrome-stable",
)
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def find_chromium() -> str | None:
    """The path of a Chromium executable, or None (Playwright may still have its own)."""
    for variable in ("STRIPE_SIM_BROWSER", "PLAYWRIGHT_CHROMIUM_EXECUTABLE"):
        configured = os.environ.get(variable)
        if configured and Path(configured).exists():
            return configured
    for candidate in CANDIDATES:
        if Path(candidate).exists():
            return candidate
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    return found


def launch_options(headless: bool = True) -> dict[str, object]:
    options: dict[str, object] = {"headless": headless, "args": list(LAUNCH_ARGS)}
    executable = find_chromium()
    if executable:
        options["executable_path"] = executable
    return options
