"""Set up a fresh machine and run the project: ``python3 -m simulator.bootstrap up|test``.

Standard library only, because it runs before anything is installed: it makes a virtual
environment in ``.venv``, installs the package with its ``dev`` extras (again only when
``pyproject.toml`` changed), installs Debian's ``chromium`` for the browser tests when it
is missing, then runs the main job (``up``) or the test suite (``test``).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv"
PYTHON = VENV / "bin" / "python"
# Reports of every run: Cucumber JSON of the features, a readable HTML report, and a
# Playwright trace and screenshot of every failed browser test.
REPORTS = ["--cucumberjson=reports/features.cucumber.json", "--html=reports/tests.html",
           "--self-contained-html", "--tracing=retain-on-failure",
           "--screenshot=only-on-failure", "--output=reports/playwright"]
BROWSERS = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")


def run(command: list[str], **kwargs: object) -> None:
    print("+", " ".join(command), flush=True)
    subprocess.run(command, check=True, cwd=ROOT, **kwargs)  # type: ignore[call-overload]


def ensure_venv() -> None:
    if not PYTHON.exists():
        run([sys.executable, "-m", "venv", str(VENV)])
    stamp = VENV / ".installed"
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if stamp.exists() and stamp.read_text() == digest:
        return
    run([str(PYTHON), "-m", "pip", "install", "-q", "--upgrade", "pip"])
    run([str(PYTHON), "-m", "pip", "install", "-q", "-e", ".[dev]"])
    stamp.write_text(digest)


def browser_path() -> str | None:
    configured = os.environ.get("STRIPE_SIM_BROWSER")
    if configured and Path(configured).exists():
        return configured
    return next((path for path in BROWSERS if Path(path).exists()), None)


def ensure_browser() -> None:
    """Playwright cannot download its own browsers offline; Debian's chromium works."""
    if browser_path():
        return
    apt = shutil.which("apt-get")
    if apt is None:
        print("no chromium and no apt-get: browser tests will be skipped", flush=True)
        return
    prefix = [] if os.geteuid() == 0 else ["sudo"]
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    run([*prefix, apt, "update", "-q"], env=env)
    run([*prefix, apt, "install", "-y", "-q", "chromium"], env=env)


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("up", "test", "setup"):
        print("usage: python3 -m simulator.bootstrap up|test|setup [args...]", file=sys.stderr)
        return 2
    command, rest = argv[0], argv[1:]
    ensure_venv()
    if command == "setup":
        ensure_browser()
        return 0
    if command == "up":
        os.execv(str(PYTHON), [str(PYTHON), "-m", "simulator", "up", *rest])
    ensure_browser()
    run([str(PYTHON), "-m", "ruff", "check", "simulator", "harness", "tests", "load"])
    run([str(PYTHON), "-m", "mypy"])
    result = subprocess.run([str(PYTHON), "-m", "pytest", *REPORTS, *rest], cwd=ROOT)
    return result.returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
