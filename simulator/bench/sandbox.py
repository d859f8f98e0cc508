"""``stripe-sim bench sandbox``: requests/s and latency percentiles of Stripe-compatible
servers, side by side, for the requests a Stripe client makes most.

The client is deliberately cheap, because it shares the machine's cores with the server
it measures: each worker thread holds one keep-alive ``http.client.HTTPConnection``,
bodies are pre-encoded form strings (exactly what the SDKs send) and responses are not
parsed beyond their status. ``--processes`` spreads the threads over several client
processes when one Python process's GIL would be the bottleneck.
"""

from __future__ import annotations

import http.client
import json
import multiprocessing
import os
import random
import threading
import time
import urllib.parse
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from simulator.common.clock import monotonic

API_VERSION = "2026-10-28.endive"
USER_AGENT = "Stripe/v1 PythonBindings/16.1.0 (stripe-sim bench)"
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
CONNECT_BACKOFF_SECONDS = 0.05
CHECKOUT_FORM = (
    "mode=payment&success_url=https%3A%2F%2Fexample.com%2Fsuccess"
    "&line_items[0][price_data][currency]=usd&line_items[0][price_data][unit_amount]=1000"
    "&line_items[0][price_data][product_data][name]=Lot&line_items[0][quantity]=1"
)


@dataclass(frozen=True)
class Target:
    name: str
    host: str
    port: int
    api_key: str
    server_pid: int | None = None  # known for sandboxes the bench started itself

    @classmethod
    def parse(cls, spec: str, api_key: str, server_pid: int | None = None) -> Target:
        """``http://127.0.0.1:12111`` or ``name=http://127.0.0.1:12111``; loopback only."""
        name, _, url = spec.rpartition("=") if "=" in spec.split("://")[0] else ("", "", spec)
        parsed = urllib.parse.urlsplit(url if "://" in url else f"http://{url}")
        if parsed.scheme != "http" or parsed.hostname not in LOOPBACK_HOSTS:
            raise ValueError(f"benchmarks only target http://127.0.0.1 servers, not {url!r}")
        return cls(name or url, parsed.hostname, parsed.port or 80, api_key, server_pid)

    def connection(self, timeout: float = 30.0) -> http.client.HTTPConnection:
        return http.client.HTTPConnection(self.host, self.port, timeout=timeout)


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    body: bytes | None


@dataclass(frozen=True)
class Workload:
    """How to make the n-th request of one worker; ``ids`` are objects made in setup."""

    name: str
    make: Callable[[int, Sequence[str]], Request]
    needs_customers: bool = False


def _create_customer(n: int, ids: Sequence[str]) -> Request:
    body = f"email=bidder-{n}%40example.com&name=Bidder+{n}&metadata[paddle]={n}"
    return Request("POST", "/v1/customers", body.encode())


def _create_confirm_pi(n: int, ids: Sequence[str]) -> Request:
    body = "amount=2000&currency=usd&payment_method=pm_card_visa&confirm=true"
    return Request("POST", "/v1/payment_intents", body.encode())


def _create_checkout(n: int, ids: Sequence[str]) -> Request:
    return Request("POST", "/v1/checkout/sessions", CHECKOUT_FORM.encode())


def _retrieve(n: int, ids: Sequence[str]) -> Request:
    return Request("GET", f"/v1/customers/{ids[n % len(ids)]}", None)


WORKLOADS: dict[str, Workload] = {
    w.name: w
    for w in (
        Workload("create-customer", _create_customer),
        Workload("create-confirm-pi", _create_confirm_pi),
        Workload("create-checkout", _create_checkout),
        Workload("retrieve", _retrieve, needs_customers=True),
    )
}


@dataclass
class WorkerResult:
    latencies: list[float] = field(default_factory=list)
    answered: int = 0  # every answer, the warm-up's included (for server CPU per request)
    errors: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    first_error: str | None = None

    def merge(self, other: WorkerResult) -> None:
        self.latencies += other.latencies
        self.answered += other.answered
        self.errors += other.errors
        for status, count in other.statuses.items():
            self.statuses[status] = self.statuses.get(status, 0) + count
        self.first_error = self.first_error or other.first_error


@dataclass
class Measurement:
    """One workload on one target. ``rps`` counts successful (2xx) answers per second of
    the measured window; the latency percentiles cover every answered request."""

    target: str
    workload: str
    phase: str
    concurrency: int
    processes: int
    seconds: float
    requests: int
    errors: int
    rps: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    statuses: dict[str, int]
    first_error: str | None
    # Server CPU time per answered request: robust to other load on a shared machine.
    server_cpu_ms: float | None = None


def headers_for(target: Target, request: Request, idempotency_key: str) -> dict[str, str]:
    headers = {
        "Authorization": f"Bearer {target.api_key}",
        "Stripe-Version": API_VERSION,
        "User-Agent": USER_AGENT,
    }
    if request.method == "POST":
        headers["Content-Type"] = "application/x-www-form-urlencoded"
        headers["Idempotency-Key"] = idempotency_key
    return headers


class Worker:
    """One thread's keep-alive connection and its measurements."""

    def __init__(self, target: Target, workload: Workload, ids: Sequence[str], tag: str) -> None:
        self.target = target
        self.workload = workload
        self.ids = ids
        self.tag = tag
        self.conn: http.client.HTTPConnection | None = None
        self.result = WorkerResult()

    def send(self, n: int) -> tuple[int, bytes]:
        request = self.workload.make(n, self.ids)
        headers = headers_for(self.target, request, f"bench-{self.tag}-{n}")
        if self.conn is None:
            self.conn = self.target.connection()
        self.conn.request(request.method, request.path, request.body, headers)
        response = self.conn.getresponse()
        body = response.read()
        if response.will_close:
            self.conn.close()
            self.conn = None
        return response.status, body

    def run(self, measure_from: float, until: float) -> WorkerResult:
        n = 0
        while True:
            started = monotonic()
            if started >= until:
                break
            n += 1
            try:
                status, body = self.send(n)
            except (OSError, http.client.HTTPException) as error:
                self._failed(started >= measure_from, "connection", repr(error))
                if self.conn is not None:
                    self.conn.close()
                self.conn = None
                time.sleep(CONNECT_BACKOFF_SECONDS)  # a server that is down is not hammered
                continue
            self.result.answered += 1
            if started < measure_from:
                continue
            self.result.latencies.append(monotonic() - started)
            if status >= 300:
                self._failed(True, str(status), body[:300].decode("utf-8", "replace"))
        if self.conn is not None:
            self.conn.close()
        return self.result

    def _failed(self, counted: bool, status: str, detail: str) -> None:
        if not counted:
            return
        self.result.errors += 1
        self.result.statuses[status] = self.result.statuses.get(status, 0) + 1
        if self.result.first_error is None:
            self.result.first_error = f"{status}: {detail}"


@dataclass(frozen=True)
class Job:
    target: Target
    workload: str
    threads: int
    warmup: float
    duration: float
    ids: tuple[str, ...]
    tag: str


def run_threads(job: Job) -> WorkerResult:
    """``job.threads`` workers in this process, all measuring the same time window."""
    workload = WORKLOADS[job.workload]
    start = monotonic()
    measure_from, until = start + job.warmup, start + job.warmup + job.duration
    workers = [Worker(job.target, workload, job.ids, f"{job.tag}-{i}") for i in range(job.threads)]
    results: list[WorkerResult] = [WorkerResult() for _ in workers]

    def run(index: int) -> None:
        results[index] = workers[index].run(measure_from, until)

    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(len(workers))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=job.warmup + job.duration + 60)
    total = WorkerResult()
    for result in results:
        total.merge(result)
    return total


def percentile(sorted_values: Sequence[float], fraction: float) -> float:
    if not sorted_values:
        return 0.0
    index = min(len(sorted_values) - 1, max(0, round(fraction * len(sorted_values)) - 1))
    return sorted_values[index]


def measure(target: Target, workload: str, *, concurrency: int, processes: int, warmup: float,
            duration: float, ids: Sequence[str], phase: str) -> Measurement:
    """Run one workload against one target and summarise it."""
    run_tag = f"{phase}-{random.getrandbits(48):012x}"
    per_process = _split(concurrency, processes)
    jobs = [Job(target, workload, threads, warmup, duration, tuple(ids), f"{run_tag}-p{i}")
            for i, threads in enumerate(per_process)]
    total = WorkerResult()
    cpu_before = process_tree_cpu_seconds(target.server_pid)
    if len(jobs) == 1:
        total = run_threads(jobs[0])
    else:
        context = multiprocessing.get_context("fork")
        with context.Pool(len(jobs)) as pool:
            for result in pool.map(run_threads, jobs):
                total.merge(result)
    cpu_after = process_tree_cpu_seconds(target.server_pid)
    server_cpu_ms = None
    if cpu_before is not None and cpu_after is not None and total.answered:
        server_cpu_ms = round((cpu_after - cpu_before) * 1000 / total.answered, 3)
    latencies = sorted(total.latencies)
    ms = [value * 1000 for value in latencies]
    return Measurement(
        target=target.name, workload=workload, phase=phase, concurrency=concurrency,
        processes=len(jobs), seconds=duration, requests=len(latencies), errors=total.errors,
        rps=round((len(latencies) - total.errors) / duration, 1),
        p50_ms=round(percentile(ms, 0.50), 2), p95_ms=round(percentile(ms, 0.95), 2),
        p99_ms=round(percentile(ms, 0.99), 2), max_ms=round(ms[-1], 2) if ms else 0.0,
        statuses=total.statuses, first_error=total.first_error, server_cpu_ms=server_cpu_ms,
    )


def process_tree_cpu_seconds(root_pid: int | None) -> float | None:
    """User + system CPU seconds of a process and all its descendants (Linux ``/proc``);
    None when unknown."""
    if root_pid is None:
        return None
    try:
        ticks = os.sysconf("SC_CLK_TCK")
        entries = [e for e in os.listdir("/proc") if e.isdigit()]
    except (OSError, ValueError):
        return None
    parents: dict[int, int] = {}
    cpu: dict[int, int] = {}
    for entry in entries:
        try:
            with open(f"/proc/{entry}/stat") as stat:
                text = stat.read()
        except OSError:  # the process ended meanwhile
            continue
        fields = text[text.rfind(")") + 2:].split()
        parents[int(entry)] = int(fields[1])
        cpu[int(entry)] = int(fields[11]) + int(fields[12])  # utime + stime, in ticks
    if root_pid not in cpu:
        return None
    tree, frontier = {root_pid}, [root_pid]
    while frontier:
        parent = frontier.pop()
        children = [pid for pid, ppid in parents.items() if ppid == parent and pid not in tree]
        tree.update(children)
        frontier += children
    return sum(cpu[pid] for pid in tree) / ticks


def _split(concurrency: int, processes: int) -> list[int]:
    processes = max(1, min(processes, concurrency))
    base, extra = divmod(concurrency, processes)
    return [base + (1 if i < extra else 0) for i in range(processes)]


def create_customers(target: Target, count: int) -> list[str]:
    """Customers for the ``retrieve`` workload, made with one plain connection."""
    worker = Worker(target, WORKLOADS["create-customer"], (), f"setup-{random.getrandbits(32)}")
    ids: list[str] = []
    for n in range(count):
        status, body = worker.send(n)
        if status != 200:
            raise RuntimeError(f"{target.name}: creating customers failed: {status} {body[:300]!r}")
        ids.append(json.loads(body)["id"])
    if worker.conn is not None:
        worker.conn.close()
    return ids


def format_table(rows: Sequence[Measurement]) -> str:
    header = (f"{'target':<28} {'workload':<18} {'phase':<12} {'rps':>8} {'p50 ms':>8}"
              f" {'p95 ms':>8} {'p99 ms':>8} {'max ms':>8} {'errors':>7} {'srv cpu ms':>10}")
    lines = [header, "-" * len(header)]
    for row in rows:
        cpu = f"{row.server_cpu_ms:.2f}" if row.server_cpu_ms is not None else "-"
        lines.append(
            f"{row.target[:28]:<28} {row.workload:<18} {row.phase:<12} {row.rps:>8.1f}"
            f" {row.p50_ms:>8.2f} {row.p95_ms:>8.2f} {row.p99_ms:>8.2f} {row.max_ms:>8.2f}"
            f" {row.errors:>7} {cpu:>10}"
        )
        if row.first_error:
            lines.append(f"    first error: {row.first_error[:160]}")
    return "\n".join(lines)


def as_json(rows: Sequence[Measurement], extra: dict[str, Any] | None = None) -> str:
    return json.dumps({"results": [asdict(row) for row in rows], **(extra or {})}, indent=2)


# -- a whole run: targets x workloads, optionally again after seeding ---------------------
@dataclass
class BenchPlan:
    base_urls: list[str]
    workloads: list[str]
    server_pids: list[int] = field(default_factory=list)  # of the --base-url servers, in order
    concurrency: int = 8
    processes: int = 1
    duration: float = 10.0
    warmup: float = 1.0
    api_key: str = "sk_test_bench"
    start: list[str] = field(default_factory=list)  # "WORKERSxTHREADS" sandboxes to start
    seed_objects: int = 0
    db: str | None = None  # the SQLite file of the first --base-url, for seeding
    retrieve_pool: int = 100
    workdir: str | None = None  # where started sandboxes keep their files
    keep_files: bool = False  # keep a started sandbox's database after the run
    log: Callable[[str], None] = print


@dataclass
class SandboxSpec:
    workers: int
    threads: int

    @classmethod
    def parse(cls, spec: str) -> SandboxSpec:
        workers, _, threads = spec.lower().partition("x")
        return cls(int(workers), int(threads or 4))


def run_plan(plan: BenchPlan) -> list[Measurement]:
    unknown = [w for w in plan.workloads if w not in WORKLOADS]
    if unknown:
        raise ValueError(f"unknown workloads {unknown}; choose from {sorted(WORKLOADS)}")
    rows: list[Measurement] = []
    for index, url in enumerate(plan.base_urls):
        pid = plan.server_pids[index] if index < len(plan.server_pids) else None
        target = Target.parse(url, plan.api_key, pid)
        db = plan.db if index == 0 else None
        rows += _bench_target(plan, target, db)
    for spec_text in plan.start:
        rows += _bench_started_sandbox(plan, SandboxSpec.parse(spec_text))
    return rows


def _bench_started_sandbox(plan: BenchPlan, spec: SandboxSpec) -> list[Measurement]:
    import shutil
    import tempfile
    from pathlib import Path

    from simulator.bench.servers import start_sandbox

    workdir = tempfile.mkdtemp(prefix=f"bench-{spec.workers}x{spec.threads}-",
                               dir=plan.workdir)
    try:
        server = start_sandbox(Path(workdir), workers=spec.workers, threads=spec.threads)
        try:
            name = f"sandbox {spec.workers}w x {spec.threads}t"
            target = Target.parse(f"{name}={server.url}", plan.api_key, server.process.pid)
            return _bench_target(plan, target, server.db_path)
        finally:
            server.stop()
    finally:
        if not plan.keep_files:
            shutil.rmtree(workdir, ignore_errors=True)


def _bench_target(plan: BenchPlan, target: Target, db: str | None) -> list[Measurement]:
    rows = _measure_all(plan, target, "baseline")
    if plan.seed_objects and db:
        from simulator.bench.seed import seed

        plan.log(f"{target.name}: seeding {plan.seed_objects:,} objects into {db}")
        report = seed(db, plan.seed_objects, progress=plan.log)
        plan.log(f"{target.name}: seeded {report.rows:,} rows in {report.seconds}s"
                 f" ({report.total_objects:,} objects in the store)")
        rows += _measure_all(plan, target, f"+{_short(report.total_objects)}")
    return rows


def _measure_all(plan: BenchPlan, target: Target, phase: str) -> list[Measurement]:
    ids: list[str] = []
    if any(WORKLOADS[w].needs_customers for w in plan.workloads):
        ids = create_customers(target, plan.retrieve_pool)
    rows = []
    for workload in plan.workloads:
        plan.log(f"{target.name}: {workload} ({phase}), {plan.concurrency} clients"
                 f" for {plan.duration:g}s")
        row = measure(target, workload, concurrency=plan.concurrency, processes=plan.processes,
                      warmup=plan.warmup, duration=plan.duration, ids=ids, phase=phase)
        plan.log(f"  {row.rps:,.1f} req/s, p50 {row.p50_ms} ms, p99 {row.p99_ms} ms,"
                 f" {row.errors} errors")
        rows.append(row)
    return rows


def _short(count: int) -> str:
    if count >= 1_000_000:
        return f"{count / 1_000_000:.1f}M objs"
    if count >= 1000:
        return f"{count / 1000:.0f}k objs"
    return f"{count} objs"
