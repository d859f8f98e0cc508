"""``stripe-sim bench sandbox``: requests/s, latency percentiles and server CPU per
request of Stripe-compatible servers, side by side, for the requests a Stripe client
makes most. The loads are Locust's (``load/bench_sandbox.py`` through
``simulator.bench.locust_run``), the project's one load engine.

Targets are running servers (``--base-url``, e.g. stripe-mock or localstripe), sandboxes
the bench starts (``--start WORKERSxTHREADS``) and, as the yardstick, a bare Flask
endpoint served the same way (``--bare``: every ``/v1/…`` request answered 200 with no
work). Every target is up for the whole run and the workloads go round them in turn,
``--rounds`` times, so a shared machine's noise falls on all of them alike; the ratios
are printed against ``--baseline``.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from simulator.bench.locust_run import LOCUSTFILE
from simulator.bench.measurement import LocustLoad, Log, Measurement, measure_load

BENCH_LOCUSTFILE = LOCUSTFILE.parent / "bench_sandbox.py"
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
# Workload name -> the user class in ``load/bench_sandbox.py``.
WORKLOADS: dict[str, str] = {
    "create-customer": "CreateCustomer",
    "create-confirm-pi": "CreateConfirmPaymentIntent",
    "create-checkout": "CreateCheckoutSession",
    "retrieve": "RetrieveCustomer",
}
NEEDS_CUSTOMERS = ("retrieve",)
BARE = "bare flask"


@dataclass(frozen=True)
class Target:
    name: str
    url: str
    server_pid: int | None = None  # known for servers the bench started, or given
    db: str | None = None  # its SQLite file, for --seed-objects
    bare: bool = False  # answers everything with 200: nothing to retrieve

    @classmethod
    def parse(cls, spec: str, server_pid: int | None = None, db: str | None = None) -> Target:
        """``http://127.0.0.1:12111`` or ``name=http://127.0.0.1:12111``; loopback only."""
        name, _, url = spec.rpartition("=") if "=" in spec.split("://")[0] else ("", "", spec)
        parsed = urllib.parse.urlsplit(url if "://" in url else f"http://{url}")
        if parsed.scheme != "http" or parsed.hostname not in LOOPBACK_HOSTS:
            raise ValueError(f"benchmarks only target http://127.0.0.1 servers, not {url!r}")
        return cls(name or url, f"http://{parsed.hostname}:{parsed.port or 80}", server_pid, db)


@dataclass
class SandboxSpec:
    workers: int
    threads: int

    @classmethod
    def parse(cls, spec: str) -> SandboxSpec:
        """``2x4`` (2 workers of 4 threads) or ``3`` (3 workers of 4 threads)."""
        workers, _, threads = spec.lower().partition("x")
        try:
            parsed = cls(int(workers), int(threads or 4))
        except ValueError:
            raise ValueError(f"{spec!r}: give WORKERSxTHREADS, e.g. 2x4") from None
        if parsed.workers < 1 or parsed.threads < 1:
            raise ValueError(f"{spec!r}: workers and threads must be at least 1")
        return parsed


@dataclass
class BenchPlan:
    base_urls: list[str]
    workloads: list[str]
    server_pids: list[int] = field(default_factory=list)  # of the --base-url servers, in order
    concurrency: int = 8
    processes: int = 1  # Locust processes the users are spread over
    duration: float = 10.0
    warmup: float = 1.0  # seconds of load, not measured, before each target's first round
    api_key: str = "sk_test_bench"
    start: list[str] = field(default_factory=list)  # "WORKERSxTHREADS" sandboxes to start
    bare: str | None = None  # "WORKERSxTHREADS" of a bare Flask yardstick to start
    rounds: int = 1
    baseline: str | None = None  # the target the ratios are against
    seed_objects: int = 0
    db: str | None = None  # the SQLite file of the first --base-url, for seeding
    retrieve_pool: int = 100
    workdir: str | None = None  # where started servers keep their files
    keep_files: bool = False  # keep started servers' files after the run
    log: Log = print

    def problems(self) -> list[str]:
        unknown = [w for w in self.workloads if w not in WORKLOADS]
        return [message for broken, message in (
            (bool(unknown), f"unknown workloads {unknown}; choose from {sorted(WORKLOADS)}"),
            (not self.base_urls and not self.start, "give at least one --base-url or --start"),
            (not 1 <= self.concurrency <= 512, "--concurrency must be 1 to 512"),
            (not 0 < self.duration <= 600, "--duration must be over 0 and at most 600 s"),
            (not 1 <= self.rounds <= 20, "--rounds must be 1 to 20"),
            (bool(self.seed_objects and self.base_urls and not self.db and not self.start),
             "--seed-objects needs --db for a --base-url target"),
        ) if broken]


def run_plan(plan: BenchPlan) -> list[Measurement]:
    """Every workload on every target, round after round; then, with ``seed_objects``,
    again after seeding each target that has a database."""
    problems = plan.problems()
    if problems:
        raise ValueError("; ".join(problems))
    workdir = Path(tempfile.mkdtemp(prefix="bench-sandbox-", dir=plan.workdir))
    try:
        with started_targets(plan, workdir) as targets:
            rows = _measure_rounds(plan, targets, workdir, "baseline", warm=plan.warmup > 0)
            if plan.seed_objects:
                phase = _seed(plan, targets)
                rows += _measure_rounds(plan, [t for t in targets if t.db], workdir, phase,
                                        warm=False)
            return rows
    finally:
        if not plan.keep_files:
            shutil.rmtree(workdir, ignore_errors=True)


@contextmanager
def started_targets(plan: BenchPlan, workdir: Path) -> Iterator[list[Target]]:
    """The given servers, then those the bench starts, all up until the run ends."""
    from simulator.bench.servers import start_bare_flask, start_sandbox

    targets = [Target.parse(url, plan.server_pids[i] if i < len(plan.server_pids) else None,
                            plan.db if i == 0 else None)
               for i, url in enumerate(plan.base_urls)]
    with ExitStack() as stack:
        for index, text in enumerate(plan.start):
            spec = SandboxSpec.parse(text)
            plan.log(f"starting a sandbox, {spec.workers} workers x {spec.threads} threads")
            server = start_sandbox(workdir / f"sandbox-{index}", workers=spec.workers,
                                   threads=spec.threads)
            stack.callback(server.stop)
            targets.append(Target(f"sandbox {spec.workers}w x {spec.threads}t", server.url,
                                  server.process.pid, server.db_path))
        if plan.bare:
            spec = SandboxSpec.parse(plan.bare)
            bare = start_bare_flask(workdir / "bare", workers=spec.workers,
                                    threads=spec.threads)
            stack.callback(bare.stop)
            targets.append(Target(BARE, bare.url, bare.process.pid, bare=True))
        yield targets


def _measure_rounds(plan: BenchPlan, targets: list[Target], workdir: Path, phase: str,
                    *, warm: bool) -> list[Measurement]:
    customers = {t.name: create_customers(t, plan.api_key, plan.retrieve_pool)
                 for t in targets if not t.bare and set(plan.workloads) & set(NEEDS_CUSTOMERS)}
    if warm:
        for target in targets:
            _load(plan, target, plan.workloads[0], customers, workdir, plan.warmup)
    rows: list[Measurement] = []
    for number in range(plan.rounds):
        if plan.rounds > 1:
            plan.log(f"round {number + 1} of {plan.rounds}")
        for workload in plan.workloads:
            for target in targets:
                if target.bare and workload in NEEDS_CUSTOMERS:
                    continue
                load = _load_of(plan, target, workload, customers, workdir, plan.duration)
                rows.append(measure_load(load, target=target.name, workload=workload,
                                         phase=phase, server_pid=target.server_pid,
                                         log=plan.log))
    return rows


def _load(plan: BenchPlan, target: Target, workload: str, customers: dict[str, list[str]],
          workdir: Path, seconds: float) -> None:
    """A load whose figures are not kept (the servers' caches and connections warm)."""
    if target.bare and workload in NEEDS_CUSTOMERS:
        return
    measure_load(_load_of(plan, target, workload, customers, workdir, seconds),
                 target=target.name, workload=workload, phase="warm-up",
                 server_pid=None, log=lambda line: None)


def _load_of(plan: BenchPlan, target: Target, workload: str,
             customers: dict[str, list[str]], workdir: Path, seconds: float) -> LocustLoad:
    return LocustLoad(BENCH_LOCUSTFILE, WORKLOADS[workload], target.url, plan.concurrency,
                      seconds, {"api_key": plan.api_key, "ids": customers.get(target.name, [])},
                      workdir, plan.processes)


def create_customers(target: Target, api_key: str, count: int) -> list[str]:
    """Customers for the ``retrieve`` workload (set-up, not measured)."""
    ids = []
    for n in range(count):
        request = urllib.request.Request(
            f"{target.url}/v1/customers", data=f"email=bidder-{n}%40example.com".encode(),
            headers={"Authorization": f"Bearer {api_key}"}, method="POST")
        with urllib.request.urlopen(request, timeout=30) as answer:
            ids.append(json.loads(answer.read())["id"])
    return ids


def _seed(plan: BenchPlan, targets: list[Target]) -> str:
    from simulator.bench.seed import seed

    total = 0
    for target in targets:
        if target.db:
            plan.log(f"{target.name}: seeding {plan.seed_objects:,} objects into {target.db}")
            report = seed(target.db, plan.seed_objects, progress=plan.log)
            plan.log(f"{target.name}: seeded {report.rows:,} rows in {report.seconds}s")
            total = max(total, report.total_objects)
    return f"+{_short(total)}"


def _short(count: int) -> str:
    if count >= 1_000_000:
        return f"{count / 1_000_000:.1f}M objs"
    if count >= 1000:
        return f"{count / 1000:.0f}k objs"
    return f"{count} objs"
