"""``stripe-sim bench service``: the payment service's figures, on loopback, against a
sandbox the benchmark starts itself. The loads are driven by Locust (``load/bench_service.py``
through ``simulator.bench.locust_run``), the one load engine of the project.

1. ``POST /payments/checkout/create``: each request is for a different win, so each one
   creates a real Checkout Session at the sandbox through the official SDK; then the
   same wins again (the buyer's double click: the open session is returned, nothing is
   created). Aim: p95 under 50 ms.
2. ``POST /payments/webhooks/stripe``: ``checkout.session.completed`` deliveries about
   the service's own paid sessions, signed with its secret as Stripe signs them. A new
   event id takes the real path (verify, store in the inbox, dispatch, a handler that
   finds the session and its recorded payment, marked processed); duplicates are the
   sandbox's own events, already processed. The same load goes to a bare Flask endpoint
   served the same way (``simulator.bench.bare_flask``). Aim: at least a third of its
   requests/s.
3. The payment window: with both clocks moved through their control routes, a create
   1 s before a window's end is allowed and 1 s after it is refused with 410; then, with
   the scheduler ticking by itself, how late each ``close_window`` job starts and
   finishes after its window's end. Aim: never more than 1 s (the tick).

The servers run as in production (gunicorn, several workers) with ``--test-mode`` for
the clock route (``simulator.bench.servers``). Buyers are written into the service's
database with their API tokens; wins come through the auction API. Each load also
reports the server's CPU time per request, which holds up when other work shares the
machine's cores. The figures, the aims they meet or miss and their text and JSON forms
are ``service_report.py``'s.
"""

from __future__ import annotations

import json
import math
import shutil
import sqlite3
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from simulator.bench.load_check import Targets, settle
from simulator.bench.load_plan import (
    seed_buyers,
    service_clock_offset,
    test_route_headers,
    webhook_secret,
)
from simulator.bench.locust_run import LOCUSTFILE, LocustOptions, read_stats, run_locust
from simulator.bench.measurement import Measurement, process_tree_cpu_seconds
from simulator.bench.servers import (
    SERVICE_KEY,
    RunningServer,
    ServiceProcess,
    start_bare_flask,
    start_sandbox,
    start_service,
)
from simulator.bench.service_report import (
    Check,
    ServiceBenchReport,
    WindowPrecision,
    WindowProbe,
    cpu_ratios,
    goals,
    rps_ratios,
)
from simulator.common.clock import monotonic, system_time
from simulator.common.ids import IdGenerator
from simulator.service.adapters.repositories import Repository
from simulator.service.config import ServiceConfig
from simulator.service.domain.window import HOUR
from simulator.service.scheduler import CLOSE_WINDOW

BENCH_LOCUSTFILE = LOCUSTFILE.parent / "bench_service.py"
PLAN_VARIABLE = "STRIPE_SIM_BENCH_PLAN"
CHECKOUT_PATH = "/payments/checkout/create"
# A create this many seconds from a window's end, and the status it must get.
WINDOW_PROBES = ((-1.0, 201), (1.0, 410))
POLL_SECONDS = 0.005
# How long before now the window-edge win ended: its window closes 22 h from now, before
# those of the wins seeded for the checkout loads (24 h from their seeding).
EDGE_WIN_AGE = 2 * HOUR
MAX_CONCURRENCY = 256
MAX_DURATION = 600.0
MAX_WINS = 20_000
MAX_WINDOW_WINS = 300
MAX_PAID_SESSIONS = 500
SEED_THREADS = 8
Log = Callable[[str], None]


# -- the plan -------------------------------------------------------------------------------
@dataclass
class ServiceBenchPlan:
    concurrency: int = 8
    duration: float = 10.0
    wins: int = 1000  # for the new-win creates; the run stops early when they run out
    workers: int = 2
    threads: int = 4
    sandbox_workers: int = 2
    sandbox_threads: int = 4
    paid_sessions: int = 20  # real paid sessions the webhook events are about
    duplicate_share: float = 0.5  # of the mixed webhook load
    window_wins: int = 20  # windows whose closing is timed, one per second
    workdir: str | None = None
    keep_files: bool = False
    log: Log = print

    def problems(self) -> list[str]:
        """What makes the plan unbounded or meaningless (empty when it is fine). Six
        loads of ``MAX_DURATION`` stay well inside ``EDGE_WIN_AGE``, so the window
        probe never brings the checkout wins' windows to their end."""
        return [message for broken, message in (
            (not 1 <= self.concurrency <= MAX_CONCURRENCY,
             f"--concurrency must be 1 to {MAX_CONCURRENCY}"),
            (not 0 < self.duration <= MAX_DURATION,
             f"--duration must be over 0 and at most {MAX_DURATION:g} s"),
            (not 1 <= self.wins <= MAX_WINS, f"--wins must be 1 to {MAX_WINS:,}"),
            (not 1 <= self.window_wins <= MAX_WINDOW_WINS,
             f"--window-wins must be 1 to {MAX_WINDOW_WINS}"),
            (not 0 <= self.duplicate_share <= 1, "--duplicate-share must be 0 to 1"),
            (not 1 <= self.paid_sessions <= MAX_PAID_SESSIONS,
             f"--paid-sessions must be 1 to {MAX_PAID_SESSIONS}"),
            (min(self.workers, self.threads, self.sandbox_workers, self.sandbox_threads) < 1,
             "workers and threads must be at least 1"),
        ) if broken]


# -- the servers ----------------------------------------------------------------------------
@dataclass
class ServiceUnderTest:
    """The running service, the sandbox behind it, and what the benchmark knows of them."""

    service: ServiceProcess
    sandbox: RunningServer
    webhook_secret: str
    buyer_token: str
    buyer_id: str
    label: str
    workdir: Path
    window_hours: int = ServiceConfig.payment_window_hours

    @property
    def url(self) -> str:
        return self.service.url

    @property
    def process(self) -> RunningServer:
        return self.service.server

    @property
    def db_path(self) -> str:
        return self.service.server.db_path

    def repository(self) -> Repository:
        return Repository(self.db_path)

    def clock_offset(self) -> float:
        answer = requests.get(f"{self.url}/_test/clock", timeout=30,
                              headers=test_route_headers(self.db_path))
        answer.raise_for_status()
        return float(answer.json()["offset_seconds"])


def start_service_under_test(plan: ServiceBenchPlan, workdir: Path) -> ServiceUnderTest:
    sandbox = start_sandbox(workdir / "sandbox", workers=plan.sandbox_workers,
                            threads=plan.sandbox_threads)
    try:
        service = start_service(workdir / "service", sandbox.url, workers=plan.workers,
                                threads=plan.threads)
    except BaseException:
        sandbox.stop()
        raise
    (buyer,) = seed_buyers(service.server.db_path, 1, "bench")
    return ServiceUnderTest(service, sandbox, webhook_secret(service.server.db_path),
                            buyer.token, buyer.id, f"service {plan.workers}w x {plan.threads}t",
                            workdir)


# -- seeding --------------------------------------------------------------------------------
@dataclass(frozen=True)
class SeededWin:
    id: str
    api_token: str
    closes_at: int


def seed_wins(sut: ServiceUnderTest, ended_at: Sequence[int], tag: str,
              amount: int = 64_200) -> list[SeededWin]:
    """One win per ``ended_at`` for the bench's buyer, through the auction API (as the
    auction system records them), a few at a time."""
    ids = IdGenerator()
    headers = {"Authorization": f"Bearer {sut.service.auction_token}"}

    def record(ended: int) -> SeededWin:
        win_id = f"bench-{tag}-{ids.token(12)}"
        answer = requests.post(f"{sut.url}/payments/wins", headers=headers, timeout=60, json={
            "auction_id": win_id, "lot": 17, "title": "Bench lot", "seller_id": "sel_bench",
            "buyer_id": sut.buyer_id, "amount": amount, "currency": "usd", "ended_at": ended})
        if answer.status_code != 201:
            raise RuntimeError(f"win not recorded: {answer.status_code} {answer.text[:300]}")
        return SeededWin(win_id, sut.buyer_token, ended + sut.window_hours * HOUR)

    with ThreadPoolExecutor(SEED_THREADS) as pool:
        return list(pool.map(record, ended_at))


# -- the loads, through Locust --------------------------------------------------------------
def locust_load(plan: ServiceBenchPlan, sut: ServiceUnderTest, user_class: str,
                bench_plan: Mapping[str, Any], *, target: str, host: str,
                workload: str, phase: str, server: RunningServer,
                sandbox: RunningServer | None = None) -> tuple[Measurement, float | None, int]:
    """One closed-loop load of ``plan.concurrency`` users for ``plan.duration`` seconds
    (plus a second for Locust to start them); the row, the sandbox's CPU ms per request
    when ``sandbox`` is given, and how many new webhook events were accepted."""
    plan.log(f"{target}: {workload} ({phase}), {plan.concurrency} users for"
             f" {plan.duration:g}s")
    prefix = str(sut.workdir / f"locust-{IdGenerator().token(6)}")
    options = LocustOptions(users=plan.concurrency, spawn_rate=plan.concurrency,
                            run_time=f"{math.ceil(plan.duration) + 1}s", host=host,
                            csv_prefix=prefix, json_file=prefix, locustfile=BENCH_LOCUSTFILE,
                            user_classes=(user_class,))
    cpu = (process_tree_cpu_seconds(server.process.pid),
           process_tree_cpu_seconds(sandbox.process.pid if sandbox else None))
    plan_file = Path(f"{prefix}-plan.json")
    plan_file.write_text(json.dumps(bench_plan))
    run_locust(options, {PLAN_VARIABLE: f"@{plan_file}"},
               stdout_path=sut.workdir / "locust-summary.txt")
    after = (process_tree_cpu_seconds(server.process.pid),
             process_tree_cpu_seconds(sandbox.process.pid if sandbox else None))
    stats = read_stats(prefix, {})
    row = stats.total
    errors = _first_error(prefix)
    answered = max(1, row.requests)
    measurement = Measurement(
        target=target, workload=workload, phase=phase, concurrency=plan.concurrency,
        processes=1, seconds=plan.duration, requests=row.requests, errors=row.failures,
        rps=round(row.rps * (row.requests - row.failures) / answered, 1),
        p50_ms=row.p50, p95_ms=row.p95, p99_ms=row.p99, max_ms=row.max,
        statuses={"failed": row.failures} if row.failures else {}, first_error=errors,
        server_cpu_ms=_per_request(cpu[0], after[0], row.requests))
    plan.log(f"  {measurement.rps:,.1f} req/s, p50 {row.p50:g} ms, p95 {row.p95:g} ms,"
             f" p99 {row.p99:g} ms, {row.failures} errors")
    accepted = sum(r.requests - r.failures for r in stats.routes if r.name == "webhook [new]")
    return measurement, _per_request(cpu[1], after[1], row.requests), accepted


def _per_request(before: float | None, after: float | None, requests_made: int) -> float | None:
    if before is None or after is None or not requests_made:
        return None
    return round((after - before) * 1000 / requests_made, 3)


def _first_error(prefix: str) -> str | None:
    from simulator.bench.locust_run import first_failures

    failures = first_failures(prefix, limit=1)
    return failures[0] if failures else None


# -- 1. checkout create -----------------------------------------------------------------------
@dataclass
class CheckoutFigures:
    rows: list[Measurement]
    checks: list[Check]
    sandbox_cpu_ms: dict[str, float | None]


def bench_checkout(plan: ServiceBenchPlan, sut: ServiceUnderTest,
                   wins: Sequence[SeededWin]) -> CheckoutFigures:
    """Every win once (a Checkout Session each), then the wins that got one, again."""
    pairs = [[win.id, win.api_token] for win in wins]
    common: dict[str, Any] = {"target": sut.label, "host": sut.url,
                              "workload": "checkout create", "server": sut.process,
                              "sandbox": sut.sandbox}
    first, sandbox_cpu, _ = locust_load(plan, sut, "CheckoutCreate",
                                        {"mode": "new", "wins": pairs}, phase="new win",
                                        **common)
    created = first.requests - first.errors
    if created >= len(wins):
        plan.log(f"  the {len(wins)} wins ran out; pass more --wins")
    sessions, opened = _sessions_made(sut, wins)
    figures = CheckoutFigures([first], [
        Check("Checkout Sessions made, one per win created", created, sessions,
              created == sessions)], {first.phase: sandbox_cpu})
    if opened:
        second, sandbox_cpu, _ = locust_load(
            plan, sut, "CheckoutCreate",
            {"mode": "repeat", "wins": [[w.id, w.api_token] for w in opened]},
            phase="double click", **common)
        after, _ = _sessions_made(sut, wins)
        figures.rows.append(second)
        figures.checks.append(Check("no session made by a double click", sessions, after,
                                    after == sessions))
        figures.sandbox_cpu_ms[second.phase] = sandbox_cpu
    return figures


def _sessions_made(sut: ServiceUnderTest,
                   wins: Sequence[SeededWin]) -> tuple[int, list[SeededWin]]:
    """The Checkout Sessions the service holds, and the wins with an open one."""
    repo = sut.repository()
    try:
        made = repo.count("payment_sessions", "WHERE checkout_session_id IS NOT NULL")
        open_ids = {s.win_id for s in repo.list_payment_sessions("open", limit=len(wins))}
    finally:
        repo.close()
    return made, [win for win in wins if win.id in open_ids]


def _count(sut: ServiceUnderTest, table: str, where: str = "", *params: Any) -> int:
    repo = sut.repository()
    try:
        return repo.count(table, where, *params)
    finally:
        repo.close()


# -- 2. webhooks ----------------------------------------------------------------------------
def paid_session_events(plan: ServiceBenchPlan, sut: ServiceUnderTest) -> list[dict[str, Any]]:
    """``plan.paid_sessions`` wins paid through Checkout (the sandbox's headless
    completion), their events delivered and processed; the sandbox's
    ``checkout.session.completed`` events about them."""
    now = int(system_time() + service_clock_offset(sut.url, sut.db_path))
    wins = seed_wins(sut, [now - 60] * plan.paid_sessions, "paid", amount=12_000)
    headers = {"Authorization": f"Bearer {sut.buyer_token}"}
    for win in wins:
        started = requests.post(f"{sut.url}{CHECKOUT_PATH}", json={"auction_id": win.id},
                                headers=headers, timeout=60)
        checkout_id = started.json()["checkout_url"].rsplit("/", 1)[-1].split("#")[0]
        paid = requests.post(f"{sut.sandbox.url}/_sandbox/checkout/sessions/{checkout_id}"
                             "/complete", data={"payment_method": "pm_card_visa"}, timeout=60)
        if paid.status_code != 200:
            raise RuntimeError(f"paying {checkout_id}: {paid.status_code} {paid.text[:300]}")
    settle(Targets(sut.sandbox.url, SERVICE_KEY, sut.url, sut.db_path), 30.0)
    query: dict[str, Any] = {"type": "checkout.session.completed", "limit": 100}
    listed = requests.get(f"{sut.sandbox.url}/v1/events", timeout=60, params=query,
                          headers={"Authorization": f"Bearer {SERVICE_KEY}"})
    listed.raise_for_status()
    events: list[dict[str, Any]] = listed.json()["data"]
    return events[: plan.paid_sessions]


def bench_webhooks(plan: ServiceBenchPlan, sut: ServiceUnderTest) -> tuple[list[Measurement],
                                                                          list[Check]]:
    """New events, duplicates, and a mix of both; then the mix against the bare app."""
    events = paid_session_events(plan, sut)
    prefix = f"evt_bench{IdGenerator().token(6)}"
    base = {"secret": sut.webhook_secret, "clock_offset": sut.clock_offset(),
            "objects": events, "judge": True, "prefix": prefix}
    mixed = f"mixed {plan.duplicate_share:.0%} dup"
    rows, new_events = [], 0
    for phase, share in (("new event", 0.0), ("duplicate", 1.0), (mixed, plan.duplicate_share)):
        row, _, accepted = locust_load(
            plan, sut, "WebhookDelivery", {**base, "duplicate_share": share}, target=sut.label,
            host=sut.url, workload="webhook", phase=phase, server=sut.process)
        rows.append(row)
        new_events += accepted
    rows.append(bench_bare(plan, sut, {**base, "duplicate_share": plan.duplicate_share,
                                       "judge": False}, mixed))
    stored = _count(sut, "webhook_inbox", "WHERE event_id LIKE ? AND status = 'processed'",
                    f"{prefix}%")
    unfinished = _count(sut, "webhook_inbox", "WHERE status != 'processed'")
    return rows, [Check("new events stored and processed, each once", new_events, stored,
                        new_events == stored),
                  Check("events left unprocessed", 0, unfinished, unfinished == 0)]


def bench_bare(plan: ServiceBenchPlan, sut: ServiceUnderTest, bench_plan: Mapping[str, Any],
               phase: str) -> Measurement:
    """The same load against a bare Flask endpoint under the same gunicorn settings."""
    server = start_bare_flask(sut.workdir / "bare", workers=plan.workers, threads=plan.threads)
    try:
        row, _, _ = locust_load(plan, sut, "WebhookDelivery", bench_plan,
                             target=f"bare flask {plan.workers}w x {plan.threads}t",
                             host=server.url, workload="webhook", phase=phase, server=server)
    finally:
        server.stop()
    return row

# -- 3. the payment window ------------------------------------------------------------------
class Clocks:
    """The one time of the service and the sandbox (the service follows the sandbox's
    clock), moved through the service's control route."""

    def __init__(self, sut: ServiceUnderTest) -> None:
        self.sut = sut
        self.offset = sut.clock_offset()

    def now(self) -> float:
        """The service's time, as its ``Clock`` reads it."""
        return system_time() + self.offset

    def move_to(self, target: float) -> None:
        """Advance both by whole seconds, then wait out the fraction: the service's
        clock then reads ``target`` (a few milliseconds later at most)."""
        step = int(target - self.now())
        if step > 0:
            answer = requests.post(f"{self.sut.url}/_test/clock/advance",
                                   headers=test_route_headers(self.sut.db_path),
                                   json={"seconds": step}, timeout=120)
            answer.raise_for_status()
            self.offset = float(answer.json()["offset_seconds"])
        time.sleep(max(0.0, target - self.now()))


def create_checkout(sut: ServiceUnderTest, win: SeededWin) -> int:
    answer = requests.post(f"{sut.url}{CHECKOUT_PATH}", json={"auction_id": win.id},
                           headers={"Authorization": f"Bearer {win.api_token}"}, timeout=60)
    return answer.status_code


def probe_window_edges(sut: ServiceUnderTest, clocks: Clocks) -> list[WindowProbe]:
    """A create just before a win's window ends, and just after; its window ends before
    the checkout wins' ones (``EDGE_WIN_AGE``), whose jobs must not come due."""
    now = int(clocks.now())
    (win,) = seed_wins(sut, [now - EDGE_WIN_AGE], "edge")
    probes = []
    for offset, expected in WINDOW_PROBES:
        clocks.move_to(win.closes_at + offset)
        sent = clocks.now() - win.closes_at
        probes.append(WindowProbe(round(sent, 3), create_checkout(sut, win), expected))
    return probes


@dataclass
class _Closing:
    started_late_ms: list[float]
    closed_late_ms: list[float]
    closed: int
    refused: int  # creates refused although the window was open


def time_window_closing(sut: ServiceUnderTest, clocks: Clocks, count: int) -> _Closing:
    """``count`` wins whose windows end one per second a little from now, each with an
    open Checkout Session; nobody asks anything: the scheduler's tick must close them
    (expire the session at the sandbox, cancel the order)."""
    first = math.ceil(clocks.now()) + 2 + math.ceil(count * 0.1)
    hours = sut.window_hours
    wins = seed_wins(sut, [first + i - hours * HOUR for i in range(count)], "close")
    refused = sum(create_checkout(sut, win) != 201 for win in wins)
    due = {win.id: float(win.closes_at) for win in wins}
    started, done = watch_close_jobs(sut.db_path, due, clocks,
                                     deadline=monotonic() + (first + count - clocks.now()) + 15)
    repo = sut.repository()
    try:
        orders = [repo.order_for_win(win.id) for win in wins]
    finally:
        repo.close()
    return _Closing(
        [round((started[ref] - due[ref]) * 1000, 1) for ref in due if ref in started],
        [round((done[ref] - due[ref]) * 1000, 1) for ref in due if ref in done],
        sum(1 for order in orders if order is not None and order.status == "canceled"),
        refused)


def watch_close_jobs(db_path: str, due: Mapping[str, float], clocks: Clocks,
                     deadline: float) -> tuple[dict[str, float], dict[str, float]]:
    """Poll the ``jobs`` table every few milliseconds (read only) and note, on the
    service's clock, when each ``close_window`` job was first seen claimed and done."""
    refs = list(due)
    sql = (f"SELECT ref, claimed_by IS NOT NULL, done FROM jobs WHERE kind = ?"
           f" AND ref IN ({', '.join('?' * len(refs))})")
    started: dict[str, float] = {}
    done: dict[str, float] = {}
    conn = sqlite3.connect(f"{Path(db_path).resolve().as_uri()}?mode=ro", uri=True, timeout=10)
    try:
        while len(done) < len(refs) and monotonic() < deadline:
            at = clocks.now()
            for ref, claimed, finished in conn.execute(sql, (CLOSE_WINDOW, *refs)):
                if claimed or finished:
                    started.setdefault(ref, at)
                if finished == 1:
                    done.setdefault(ref, at)
            time.sleep(POLL_SECONDS)
    finally:
        conn.close()
    return started, done


def bench_window(plan: ServiceBenchPlan, sut: ServiceUnderTest) -> tuple[WindowPrecision,
                                                                          list[Check]]:
    plan.log(f"{sut.label}: payment window edges, then {plan.window_wins} windows closing"
             " one per second with the scheduler ticking")
    clocks = Clocks(sut)
    probes = probe_window_edges(sut, clocks)
    closing = time_window_closing(sut, clocks, plan.window_wins)
    window = WindowPrecision(probes, plan.window_wins, closing.closed, closing.started_late_ms,
                             closing.closed_late_ms)
    plan.log(f"  edges {[(p.seconds_from_end, p.status) for p in probes]};"
             f" closing late by max {max(closing.closed_late_ms, default=0):.0f} ms")
    checks = [Check("windows closed by the scheduler", plan.window_wins, closing.closed,
                    closing.closed == plan.window_wins),
              Check("creates refused before the window's end", 0, closing.refused,
                    closing.refused == 0)]
    return window, checks



# -- a whole run ----------------------------------------------------------------------------
def run_service_bench(plan: ServiceBenchPlan) -> ServiceBenchReport:
    if plan.problems():
        raise ValueError("; ".join(plan.problems()))
    workdir = Path(tempfile.mkdtemp(prefix=f"bench-service-{plan.workers}x{plan.threads}-",
                                    dir=plan.workdir))
    try:
        sut = start_service_under_test(plan, workdir)
        try:
            return _measure(plan, sut)
        finally:
            sut.process.stop()
            sut.sandbox.stop()
    finally:
        if plan.keep_files:
            plan.log(f"files kept in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


def _measure(plan: ServiceBenchPlan, sut: ServiceUnderTest) -> ServiceBenchReport:
    plan.log(f"{sut.label}: seeding {plan.wins:,} wins")
    now = int(Clocks(sut).now())
    wins = seed_wins(sut, [now - 60] * plan.wins, "checkout")
    checkout = bench_checkout(plan, sut, wins)
    webhook_rows, webhook_checks = bench_webhooks(plan, sut)
    window, window_checks = bench_window(plan, sut)
    report = ServiceBenchReport(
        service=sut.label, sandbox=f"sandbox {plan.sandbox_workers}w x {plan.sandbox_threads}t",
        rows=checkout.rows + webhook_rows, webhook_vs_bare=rps_ratios(webhook_rows),
        webhook_vs_bare_cpu=cpu_ratios(webhook_rows), sandbox_cpu_ms=checkout.sandbox_cpu_ms,
        window=window, checks=checkout.checks + webhook_checks + window_checks)
    report.goals = goals(report)
    return report
