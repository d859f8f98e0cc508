"""Running Locust headless in a subprocess (its gevent monkey-patching stays out of this
process), and reading its CSV statistics back: per-route counts and percentiles, and
the p95 budgets they must keep.

The locustfiles live in ``load/`` at the top of the project; this module only builds
Locust's command line and reads what it wrote."""

from __future__ import annotations

import csv
import fnmatch
import json
import os
import re
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
LOCUSTFILE = ROOT / "load" / "locustfile.py"
PERSONAS = {"buyer": "Buyer", "webhooks": "WebhookStorm", "stripe_api": "StripeApiClient"}
RUN_TIME = re.compile(r"^(\d+h)?(\d+m)?(\d+s)?$|^\d+$")
# p95 budgets in ms, generous for a noisy 2-core machine that runs the servers and the
# load together; the most specific pattern matching a route's name applies.
DEFAULT_BUDGETS: dict[str, float] = {
    "*": 5000.0,
    "POST /payments/checkout/create": 2000.0,  # the story's bar against real Stripe
    "POST /payments/webhooks/stripe*": 2000.0,
    "payment -> receipt ready": 5000.0,  # the story's bar
}
STOP_TIMEOUT_SECONDS = 20  # users finish the payment they are in (its receipt included)


def run_seconds(text: str) -> int:
    """Locust's ``--run-time`` (``90``, ``60s``, ``1m30s``, ``1h``) in seconds; raises
    ``ValueError`` for anything else."""
    text = text.strip()
    if not text or not RUN_TIME.match(text):
        raise ValueError(f"run time {text!r}: give seconds (60, 60s) or 1m30s, 1h")
    if text.isdigit():
        return int(text)
    units = {"h": 3600, "m": 60, "s": 1}
    return sum(int(n) * units[u] for n, u in re.findall(r"(\d+)([hms])", text))


@dataclass(frozen=True)
class LocustOptions:
    """One Locust process: local, master or worker."""

    users: int = 8
    spawn_rate: float = 4.0
    run_time: str = "30s"
    personas: Sequence[str] = ("buyer", "webhooks", "stripe_api")
    host: str = ""
    csv_prefix: str | None = None
    json_file: str | None = None  # Locust adds ".json"
    html: str | None = None
    role: str = "local"  # local, master or worker
    expect_workers: int = 1
    master_host: str = "127.0.0.1"
    master_bind_host: str = "127.0.0.1"
    master_port: int = 5557
    locustfile: Path = LOCUSTFILE
    user_classes: Sequence[str] = ()  # instead of the personas' classes
    processes: int = 1  # local runs: Locust forks this many processes (one core each)

    def command(self) -> list[str]:
        base = [sys.executable, "-m", "locust", "-f", str(self.locustfile),
                "--loglevel", "WARNING"]
        if self.role == "worker":
            return [*base, "--worker", "--master-host", self.master_host,
                    "--master-port", str(self.master_port)]
        command = [*base, "--headless", "--only-summary", "-u", str(self.users),
                   "-r", f"{self.spawn_rate:g}", "-t", self.run_time, "--host", self.host,
                   "--stop-timeout", str(STOP_TIMEOUT_SECONDS)]
        if self.csv_prefix:
            command += ["--csv", self.csv_prefix]
        if self.json_file:
            command += ["--json-file", self.json_file]
        if self.html:
            command += ["--html", self.html]
        if self.role == "local" and self.processes > 1:
            command += ["--processes", str(self.processes)]
        if self.role == "master":
            command += ["--master", "--expect-workers", str(self.expect_workers),
                        "--expect-workers-max-wait", "120",
                        "--master-bind-host", self.master_bind_host,
                        "--master-bind-port", str(self.master_port)]
        return command + list(self.user_classes or [PERSONAS[n] for n in self.personas])


def run_locust(options: LocustOptions, env: Mapping[str, str] | None = None,
               stdout_path: Path | None = None) -> int:
    """Locust's exit status. Its errors and the personas' progress line (stderr) show
    here while it runs; its own summary table (stdout) goes to ``stdout_path`` when
    given. The plan reaches it through ``env`` (a secret on the command line would show
    in ``ps``)."""
    environment = {**os.environ, **(env or {}), "PYTHONPATH": os.pathsep.join(
        p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)}
    if stdout_path is None:
        return subprocess.run(options.command(), cwd=ROOT, env=environment, check=False).returncode
    with stdout_path.open("ab") as out:
        return subprocess.run(options.command(), cwd=ROOT, env=environment, stdout=out,
                              check=False).returncode


# -- Locust's statistics -----------------------------------------------------------------------
@dataclass(frozen=True)
class RouteStats:
    kind: str  # the request type: GET, POST, or RECEIPT for payment-to-receipt times
    name: str
    requests: int
    failures: int
    rps: float
    p50: float
    p95: float
    p99: float
    max: float
    budget: float | None = None

    @property
    def over_budget(self) -> bool:
        return self.budget is not None and self.requests > 0 and self.p95 > self.budget


@dataclass
class LoadStats:
    routes: list[RouteStats]
    total: RouteStats
    budgets: dict[str, float] = field(default_factory=dict)

    @property
    def failure_ratio(self) -> float:
        return self.total.failures / self.total.requests if self.total.requests else 0.0

    def over_budget(self) -> list[RouteStats]:
        return [route for route in self.routes if route.over_budget]

    def table(self) -> str:
        head = (f"{'route':<50} {'reqs':>7} {'fails':>6} {'req/s':>7} {'p50':>6} {'p95':>6}"
                f" {'p99':>6} {'max':>7} {'p95 budget':>11}")
        lines = [head, "-" * len(head)]
        for row in [*self.routes, self.total]:
            budget = "" if row.budget is None else \
                f"{row.budget:>7.0f}{' OVER' if row.over_budget else '   ok'}"
            lines.append(f"{row.name[:50]:<50} {row.requests:>7,}"
                         f" {row.failures:>6,} {row.rps:>7.1f} {row.p50:>6.0f} {row.p95:>6.0f}"
                         f" {row.p99:>6.0f} {row.max:>7.0f} {budget:>11}")
        return "\n".join(lines)


def budget_for(name: str, budgets: Mapping[str, float]) -> float | None:
    """The most specific (longest) pattern that matches the route's name."""
    matching = [pattern for pattern in budgets if fnmatch.fnmatchcase(name, pattern)]
    return budgets[max(matching, key=len)] if matching else None


def read_stats(json_file: str, budgets: Mapping[str, float]) -> LoadStats:
    """Locust's ``--json-file`` (``<json_file>.json``), written once every user has
    stopped. Its CSV statistics are rewritten only once a second and not at the end, so
    they miss the last second's requests: the figures and the verdict come from here."""
    entries = json.loads(Path(f"{json_file}.json").read_text())
    routes = sorted((_route(entry, budget_for(entry["name"], budgets)) for entry in entries),
                    key=lambda route: (route.kind == "RECEIPT", route.name))
    return LoadStats(routes, _route(_merged(entries), None), dict(budgets))


def _route(entry: Mapping[str, Any], budget: float | None) -> RouteStats:
    times = {int(ms): count for ms, count in dict(entry["response_times"]).items()}
    requests = int(entry["num_requests"])
    seconds = max(1e-3, float(entry["last_request_timestamp"] or 0) - float(entry["start_time"]))
    return RouteStats(
        entry["method"] or "", entry["name"], requests, int(entry["num_failures"]),
        round(requests / seconds, 1) if requests else 0.0,
        percentile(times, requests, 0.50), percentile(times, requests, 0.95),
        percentile(times, requests, 0.99), float(entry["max_response_time"] or 0), budget)


def _merged(entries: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    times: dict[str, int] = {}
    for entry in entries:
        for ms, count in dict(entry["response_times"]).items():
            times[str(ms)] = times.get(str(ms), 0) + count
    return {"method": "", "name": "Aggregated", "response_times": times,
            "num_requests": sum(e["num_requests"] for e in entries),
            "num_failures": sum(e["num_failures"] for e in entries),
            "start_time": min((e["start_time"] for e in entries), default=0),
            "last_request_timestamp": max((e["last_request_timestamp"] or 0 for e in entries),
                                          default=0),
            "max_response_time": max((e["max_response_time"] or 0 for e in entries), default=0)}


def percentile(times: Mapping[int, int], requests: int, fraction: float) -> float:
    """As Locust computes it: the response time (rounded as Locust stores it) that
    ``fraction`` of the requests finished within."""
    within = int(requests * fraction)
    counted = 0
    for milliseconds in sorted(times, reverse=True):
        counted += times[milliseconds]
        if requests - counted <= within:
            return float(milliseconds)
    return 0.0


def first_failures(csv_prefix: str, limit: int = 5) -> list[str]:
    """The most frequent failures Locust recorded, as one line each."""
    path = Path(f"{csv_prefix}_failures.csv")
    if not path.exists():
        return []
    with path.open(newline="") as handle:
        rows = sorted(csv.DictReader(handle), key=lambda r: -int(r["Occurrences"]))
    return [f"{row['Occurrences']}x {row['Method']} {row['Name']}: {row['Error'][:300]}"
            for row in rows[:limit]]


def persona_errors(csv_prefix: str) -> list[str]:
    """Exceptions raised in the locustfiles' own code (a request they were judging is
    then not counted at all), as one line each."""
    path = Path(f"{csv_prefix}_exceptions.csv")
    if not path.exists():
        return []
    with path.open(newline="") as handle:
        return [f"{row['Count']}x {row['Message'][:300]}" for row in csv.DictReader(handle)]
