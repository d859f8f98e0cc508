"""``stripe-sim bench stripe-python``: stripe-python's own test suite against the sandbox.

The suite is written to run against stripe-mock: its ``tests/conftest.py`` points every
client at ``http://$STRIPE_MOCK_HOST:$STRIPE_MOCK_PORT``. This command downloads the
pinned version's sdist from PyPI (``pip download --no-binary :all:``, kept in a cache
folder), unpacks it to a temporary folder, starts a sandbox on a free loopback port and
runs the tests unmodified against it, then counts passed / failed / errors overall and on
the resources the sandbox implements.

A test is "on an implemented resource" when it exercises a resource group of which the
sandbox routes at least one operation (``simulator.sandbox.coverage``): a generated
example named after the group's path (``test_payment_intents_post``,
``test_checkout_sessions_get``), or a test in ``tests/api_resources/`` for that resource's
class (``test_customer.py``). The suite's extra test dependencies are the
``stripe-python-suite`` optional group of ``pyproject.toml``.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tarfile
import tempfile
import xml.etree.ElementTree as ElementTree
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import stripe
from stripe._object_classes import OBJECT_CLASSES

from simulator.cli.supervision import LOOPBACK, start_sandbox

DEFAULT_CACHE = Path.home() / ".cache" / "stripe-sim" / "stripe-python"
OUTCOMES = ("passed", "failed", "errors", "skipped")


@dataclass
class Counts:
    passed: int = 0
    failed: int = 0
    errors: int = 0
    skipped: int = 0

    @property
    def total(self) -> int:
        return self.passed + self.failed + self.errors + self.skipped

    def add(self, outcome: str) -> None:
        setattr(self, outcome, getattr(self, outcome) + 1)


@dataclass
class SuiteResult:
    overall: Counts = field(default_factory=Counts)
    implemented: Counts = field(default_factory=Counts)


# -- the sdist ------------------------------------------------------------------------------
def download_sdist(version: str, cache: Path) -> Path:
    """The pinned version's sdist from PyPI, downloaded once into ``cache``."""
    cache.mkdir(parents=True, exist_ok=True)
    found = sorted(cache.glob(f"stripe-{version}.tar.gz"))
    if found:
        return found[0]
    subprocess.run([sys.executable, "-m", "pip", "download", "--no-binary", ":all:",
                    "--no-deps", "--quiet", f"stripe=={version}", "--dest", str(cache)],
                   check=True)
    return cache / f"stripe-{version}.tar.gz"


def unpack(sdist: Path, into: Path) -> Path:
    with tarfile.open(sdist) as archive:
        archive.extractall(into, filter="data")
    roots = [p for p in into.iterdir() if p.is_dir() and (p / "tests").is_dir()]
    if not roots:
        raise FileNotFoundError(f"{sdist} holds no tests/ folder")
    return roots[0]


# -- which tests are on implemented resources -----------------------------------------------
def implemented_groups() -> set[str]:
    """Resource groups (``customers``, ``checkout/sessions``) the sandbox routes."""
    from simulator.sandbox.coverage import build_report

    report = build_report(None)
    return {group for group, rows in report.groups.items() if any(done for _, done in rows)}


def _class_group(module_path: str) -> str | None:
    """``api_resources/checkout/test_session.py`` -> the group of stripe.checkout.Session."""
    parts = Path(module_path).with_suffix("").parts
    if "api_resources" not in parts:
        return None
    inner = parts[parts.index("api_resources") + 1:]
    module = ".".join(["stripe", *inner[:-1], "_" + inner[-1].removeprefix("test_")])
    for target, class_name in OBJECT_CLASSES.values():
        if target == module:
            cls = getattr(__import__(target, fromlist=[class_name]), class_name)
            try:
                return str(cls.class_url()).removeprefix("/v1/")
            except (NotImplementedError, AttributeError):
                return None
    return None


def on_implemented(classname: str, name: str, groups: set[str]) -> bool:
    """Whether one junit test case exercises a resource group in ``groups``."""
    module_path = classname.replace(".", "/")
    while module_path and not module_path.split("/")[-1].startswith("test_"):
        module_path = module_path.rsplit("/", 1)[0] if "/" in module_path else ""
    group = _class_group(module_path + ".py") if module_path else None
    if group is not None:
        return group in groups
    if module_path.endswith("test_generated_examples"):
        underscored = {g.replace("/", "_"): g for g in groups}
        return any(name.startswith(f"test_{prefix}_") for prefix in underscored)
    return False


def count(junit_xml: Path, groups: set[str]) -> SuiteResult:
    result = SuiteResult()
    for case in ElementTree.parse(junit_xml).getroot().iter("testcase"):
        outcome = "passed"
        for child in case:
            if child.tag == "failure":
                outcome = "failed"
            elif child.tag == "error":
                outcome = "errors"
            elif child.tag == "skipped":
                outcome = "skipped"
        result.overall.add(outcome)
        if on_implemented(case.get("classname", ""), case.get("name", ""), groups):
            result.implemented.add(outcome)
    return result


# -- running ------------------------------------------------------------------------------
def run_suite(source: Path, host: str, port: int, junit_xml: Path, *, workers: int = 2,
              timeout: float = 1800.0, pytest_args: Iterable[str] = ()) -> int:
    """The suite's own pytest run, unmodified, with the project's pytest plugin kept out.
    Failures are reported one line each: only the junit counts are read, and pytest's
    long report of a failure costs seconds per test on the SDK's big objects."""
    env = {**os.environ, "STRIPE_MOCK_HOST": host, "STRIPE_MOCK_PORT": str(port)}
    command = [sys.executable, "-m", "pytest", "tests", "-q", "-p", "no:cacheprovider",
               "-p", "no:stripe_sim", "-o", "addopts=", "--tb=line", f"--junitxml={junit_xml}",
               *(["-n", str(workers)] if workers > 1 else []), *pytest_args]
    completed = subprocess.run(command, cwd=source, env=env, timeout=timeout, check=False,
                               stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    return completed.returncode


def measure(*, cache: Path = DEFAULT_CACHE, sandbox_args: Sequence[str] = (),
            workers: int = 2, pytest_args: Iterable[str] = ()) -> SuiteResult:
    version = str(stripe.VERSION)
    sdist = download_sdist(version, cache)
    with tempfile.TemporaryDirectory(prefix="stripe-python-suite-") as scratch:
        folder = Path(scratch)
        source = unpack(sdist, folder / "src")
        server = start_sandbox(folder / "sandbox", extra_args=sandbox_args)
        try:
            junit = folder / "junit.xml"
            run_suite(source, LOOPBACK, server.port, junit, workers=workers,
                      pytest_args=pytest_args)
        finally:
            server.stop()
        if not junit.is_file():
            raise RuntimeError("the suite produced no results (see its output with -v)")
        return count(junit, implemented_groups())


def render(result: SuiteResult, version: str) -> str:
    lines = [f"stripe-python {version} test suite against the sandbox",
             f"{'':24}{'passed':>8}{'failed':>8}{'errors':>8}{'skipped':>8}{'total':>8}"]
    for label, counts in (("overall", result.overall),
                          ("implemented resources", result.implemented)):
        lines.append(f"{label:24}{counts.passed:>8}{counts.failed:>8}{counts.errors:>8}"
                     f"{counts.skipped:>8}{counts.total:>8}")
    return "\n".join(lines)


# -- the command ----------------------------------------------------------------------------
def add_parser(sub: argparse._SubParsersAction) -> None:
    """``stripe-sim bench stripe-python`` (registered by ``simulator.cli.bench``)."""
    parser = sub.add_parser(
        "stripe-python", help="stripe-python's own test suite against a local sandbox",
        description="Download the pinned stripe-python sdist, run its tests unmodified"
        " against a sandbox on a free loopback port, and count the results.")
    parser.add_argument("--cache", default=str(DEFAULT_CACHE),
                        help="where the downloaded sdist is kept")
    parser.add_argument("--workers", type=int, default=2, help="pytest-xdist workers")
    parser.add_argument("--fallback", choices=("fixtures",), default=None,
                        help="run the sandbox in its stripe-mock-compatible mode")
    parser.add_argument("pytest_args", nargs="*", help="extra pytest arguments (after --)")
    parser.set_defaults(bench_run=_run)


def _run(args: argparse.Namespace) -> int:
    # A SIGTERM (``timeout``, a CI runner) ends the run through its ``finally`` blocks, so
    # the sandbox it started is stopped too instead of being left running.
    signal.signal(signal.SIGTERM, lambda _signum, _frame: sys.exit(143))
    sandbox_args = ["--fallback", args.fallback] if args.fallback else []
    result = measure(cache=Path(args.cache), workers=args.workers,
                     pytest_args=args.pytest_args, sandbox_args=sandbox_args)
    mode = f" (--fallback {args.fallback})" if args.fallback else " (default mode)"
    print(render(result, str(stripe.VERSION) + mode))
    return 0
