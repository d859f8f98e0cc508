"""``stripe-sim bench service``: the payment service's figures, on loopback, against a
sandbox the benchmark starts itself.

1. ``POST /payments/checkout/create``: each request is for a different win, so each one
   creates a real Checkout Session at the sandbox through the official SDK; then the
   same wins again (the buyer's double click: the open session is returned, nothing is
   created). Aim: p95 under 50 ms.
2. ``POST /payments/webhooks/stripe``: deliveries signed with the service's secret as
   Stripe signs them (``t=…,v1=HMAC-SHA256(secret, "{t}.{payload}")``), built from real
   sandbox events. New events are for objects the service does not own, so each one is
   verified, stored in the inbox, dispatched (a lookup that finds nothing to change) and
   marked processed, with no call to Stripe; duplicates are events already processed.
   The same load goes to a bare Flask endpoint served the same way
   (``simulator.bench.bare_flask``). Aim: at least a third of its requests/s.
3. The payment window: with both clocks moved through their control routes, a create
   1 s before a window's end is allowed and 1 s after it is refused with 410; then, with
   the scheduler ticking by itself, how late each ``close_window`` job starts and
   finishes after its window's end. Aim: never more than 1 s (the tick).

The service runs as in production (``python -m simulator service`` under gunicorn) with
``--test-mode`` for its clock route. Wins and buyers are written straight into its
database through the payment core, never through HTTP. The client is as light as the
sandbox bench's (keep-alive ``http.client`` connections, one per thread, closed loop),
and each load also reports the server's CPU time per request, which holds up when other
work shares the machine's cores.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import math
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import requests
import stripe

from harness.servers import RunningServer, free_port, start_sandbox
from harness.service import SERVICE_TEST_KEY, service_config, start_service_process
from simulator.bench.sandbox import (
    CONNECT_BACKOFF_SECONDS,
    Measurement,
    format_table,
    percentile,
    process_tree_cpu_seconds,
)
from simulator.common.clock import Clock, monotonic, system_time
from simulator.common.ids import IdGenerator
from simulator.sandbox.webhooks.dispatcher import BASE_HEADERS
from simulator.sandbox.webhooks.signing import signature_header
from simulator.service.adapters.receipts import ReceiptStore
from simulator.service.adapters.repositories import Repository
from simulator.service.adapters.stripe_gateway import StripeGateway
from simulator.service.adapters.webhook_endpoint import register_webhook_endpoint
from simulator.service.app import clock_offset_file
from simulator.service.config import ServiceConfig
from simulator.service.domain.auction import AuctionWin
from simulator.service.domain.user import User
from simulator.service.domain.window import HOUR
from simulator.service.payments import PaymentService
from simulator.service.scheduler import CLOSE_WINDOW
from simulator.service.seed import demo_lots
from simulator.service.web.webhooks import WEBHOOK_PATH

CHECKOUT_PATH = "/payments/checkout/create"
CHECKOUT_P95_GOAL_MS = 50.0
WEBHOOK_RATIO_GOAL = 1 / 3
TICK_SECONDS = 1.0  # simulator.service.app.start_job_ticker's interval
LATENESS_GOAL_SECONDS = TICK_SECONDS
# A create this many seconds from a window's end, and the status it must get.
WINDOW_PROBES = ((-1.0, 201), (1.0, 410))
POLL_SECONDS = 0.005
# How long before now the window-edge win ended: its window closes 22 h from now, before
# those of the wins seeded for the checkout loads (24 h from their seeding).
EDGE_WIN_AGE = 2 * HOUR
MAX_CONCURRENCY = 256
MAX_DURATION = 600.0
MAX_WARMUP = 60.0
MAX_WINS = 200_000
MAX_WINDOW_WINS = 300
MAX_DUPLICATE_POOL = 100_000
USER_AGENT = "stripe-sim bench service"
Log = Callable[[str], None]


# -- the plan and the report ----------------------------------------------------------------
@dataclass
class ServiceBenchPlan:
    concurrency: int = 8
    duration: float = 10.0
    warmup: float = 1.0
    wins: int = 2000  # for the new-win creates; the run stops early when they run out
    workers: int = 2
    threads: int = 4
    sandbox_workers: int = 2
    sandbox_threads: int = 4
    duplicate_pool: int = 200  # events delivered once, then again and again
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
            (not 0 <= self.warmup <= MAX_WARMUP, f"--warmup must be 0 to {MAX_WARMUP:g} s"),
            (not 1 <= self.wins <= MAX_WINS, f"--wins must be 1 to {MAX_WINS:,}"),
            (not 1 <= self.window_wins <= MAX_WINDOW_WINS,
             f"--window-wins must be 1 to {MAX_WINDOW_WINS}"),
            (not 0 <= self.duplicate_share <= 1, "--duplicate-share must be 0 to 1"),
            (not 1 <= self.duplicate_pool <= MAX_DUPLICATE_POOL,
             f"--duplicate-pool must be 1 to {MAX_DUPLICATE_POOL:,}"),
            (min(self.workers, self.threads, self.sandbox_workers, self.sandbox_threads) < 1,
             "workers and threads must be at least 1"),
        ) if broken]


@dataclass
class WindowProbe:
    seconds_from_end: float  # the service's time when the create was sent, minus the end
    status: int
    expected: int


@dataclass
class WindowPrecision:
    probes: list[WindowProbe]
    windows: int
    closed: int  # windows whose job ran and left a canceled order
    started_late_ms: list[float]  # close_window job claimed, after the window's end
    closed_late_ms: list[float]  # close_window job done, after the window's end
    tick_seconds: float = TICK_SECONDS


@dataclass
class Check:
    """A count the run must leave in the service's database."""

    name: str
    expected: int
    actual: int
    ok: bool


@dataclass
class Goal:
    name: str
    target: str
    actual: str
    met: bool


@dataclass
class ServiceBenchReport:
    service: str
    sandbox: str
    rows: list[Measurement]
    webhook_vs_bare: dict[str, float]  # requests/s of each webhook row / the bare endpoint's
    # The bare endpoint's server CPU per request / each webhook row's: the requests/s
    # ratio a CPU-bound server reaches, whatever else the machine was running.
    webhook_vs_bare_cpu: dict[str, float]
    sandbox_cpu_ms: dict[str, float | None]  # per checkout create, by phase
    window: WindowPrecision
    checks: list[Check]
    goals: list[Goal] = field(default_factory=list)

    @property
    def broken(self) -> bool:
        """Errors or wrong counts: the figures describe a failing service."""
        return any(row.errors for row in self.rows) or not all(c.ok for c in self.checks)


# -- the closed-loop load -------------------------------------------------------------------
@dataclass(frozen=True)
class Call:
    path: str
    body: bytes
    headers: Mapping[str, str]
    kind: str = ""  # answers are counted per kind (e.g. new and duplicate events)


# The n-th call of a worker (0-based), or None when there is no work left.
CallMaker = Callable[[int, int], Call | None]


@dataclass(frozen=True)
class Load:
    target: str
    workload: str
    phase: str
    port: int
    make: CallMaker
    expect: int  # the status every answer must have
    server_pid: int | None = None
    sandbox_pid: int | None = None  # for the CPU the sandbox spends per request


@dataclass
class _Tally:
    latencies: list[float] = field(default_factory=list)
    passed: int = 0  # measured answers with the expected status
    answered: int = 0  # warm-up included (for the server's CPU per request)
    expected_by_kind: dict[str, int] = field(default_factory=dict)  # warm-up included
    errors: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    first_error: str | None = None
    stopped_at: float = 0.0
    sandbox_cpu_ms: float | None = None

    @property
    def expected(self) -> int:
        return sum(self.expected_by_kind.values())

    def merge(self, other: _Tally) -> None:
        self.latencies += other.latencies
        self.passed += other.passed
        self.answered += other.answered
        _add(self.expected_by_kind, other.expected_by_kind)
        self.errors += other.errors
        _add(self.statuses, other.statuses)
        self.first_error = self.first_error or other.first_error
        self.stopped_at = max(self.stopped_at, other.stopped_at)

    def answer(self, call: Call, status: int, body: bytes, expect: int,
               latency: float | None) -> None:
        """An answer; ``latency`` is None during the warm-up."""
        self.answered += 1
        if status == expect:
            _add(self.expected_by_kind, {call.kind: 1})
        if latency is None:
            return
        self.latencies.append(latency)
        if status == expect:
            self.passed += 1
        else:
            self.failed(True, str(status), body.decode("utf-8", "replace"))

    def failed(self, measured: bool, status: str, detail: str) -> None:
        if not measured:
            return
        self.errors += 1
        _add(self.statuses, {status: 1})
        self.first_error = self.first_error or f"{status}: {detail[:300]}"


def _add(counts: dict[str, int], more: Mapping[str, int]) -> None:
    for key, count in more.items():
        counts[key] = counts.get(key, 0) + count


def _send(conn: http.client.HTTPConnection, call: Call) -> tuple[int, bytes, bool]:
    conn.request("POST", call.path, call.body, dict(call.headers))
    response = conn.getresponse()
    return response.status, response.read(), response.will_close


class _Connection:
    """One keep-alive connection to a loopback port, opened again whenever the server
    closed it (gunicorn's sync workers close after each answer) or it failed."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.conn: http.client.HTTPConnection | None = None

    def post(self, call: Call) -> tuple[int, bytes]:
        if self.conn is None:
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            status, body, will_close = _send(self.conn, call)
        except (OSError, http.client.HTTPException):
            self.close()
            raise
        if will_close:
            self.close()
        return status, body

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
        self.conn = None


def _drive(load: Load, worker: int, measure_from: float, until: float) -> _Tally:
    """One connection's closed loop until ``until`` or until its calls run out."""
    tally, connection, n = _Tally(), _Connection(load.port), 0
    while (started := monotonic()) < until and (call := load.make(worker, n)) is not None:
        n += 1
        try:
            status, body = connection.post(call)
        except (OSError, http.client.HTTPException) as error:
            tally.failed(started >= measure_from, "connection", repr(error))
            time.sleep(CONNECT_BACKOFF_SECONDS)  # a server that is down is not hammered
            continue
        latency = monotonic() - started if started >= measure_from else None
        tally.answer(call, status, body, load.expect, latency)
    connection.close()
    tally.stopped_at = monotonic()
    return tally


def run_load(load: Load, *, concurrency: int, warmup: float,
             duration: float) -> tuple[Measurement, _Tally]:
    """``concurrency`` connections for ``warmup`` + ``duration`` seconds; requests/s count
    the expected answers of the measured window, which ends early if the calls ran out."""
    tallies = [_Tally() for _ in range(concurrency)]
    cpu_before = process_tree_cpu_seconds(load.server_pid)
    sandbox_before = process_tree_cpu_seconds(load.sandbox_pid)
    measure_from = monotonic() + warmup
    until = measure_from + duration

    def drive(worker: int) -> None:
        tallies[worker] = _drive(load, worker, measure_from, until)

    threads = [threading.Thread(target=drive, args=(i,), daemon=True) for i in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=warmup + duration + 120)
    total = _Tally()
    for tally in tallies:
        total.merge(tally)
    cpu_after = process_tree_cpu_seconds(load.server_pid)
    total.sandbox_cpu_ms = _per_request(sandbox_before,
                                        process_tree_cpu_seconds(load.sandbox_pid), total)
    seconds = max(1e-3, min(until, total.stopped_at) - measure_from)
    return _measurement(load, concurrency, seconds, total, cpu_before, cpu_after), total


def _measurement(load: Load, concurrency: int, seconds: float, total: _Tally,
                 cpu_before: float | None, cpu_after: float | None) -> Measurement:
    ms = sorted(value * 1000 for value in total.latencies)
    return Measurement(
        target=load.target, workload=load.workload, phase=load.phase, concurrency=concurrency,
        processes=1, seconds=round(seconds, 2), requests=len(ms), errors=total.errors,
        rps=round(total.passed / seconds, 1),
        p50_ms=round(percentile(ms, 0.50), 2), p95_ms=round(percentile(ms, 0.95), 2),
        p99_ms=round(percentile(ms, 0.99), 2), max_ms=round(ms[-1], 2) if ms else 0.0,
        statuses=total.statuses, first_error=total.first_error,
        server_cpu_ms=_per_request(cpu_before, cpu_after, total),
    )


def _per_request(before: float | None, after: float | None, total: _Tally) -> float | None:
    """CPU milliseconds per answered request (warm-up included, as the CPU is)."""
    if before is None or after is None or not total.answered:
        return None
    return round((after - before) * 1000 / total.answered, 3)


# -- the servers ----------------------------------------------------------------------------
@dataclass
class ServiceUnderTest:
    """The running service, the sandbox behind it, and what the benchmark knows of them."""

    process: RunningServer
    sandbox: RunningServer
    config: ServiceConfig  # the service's settings, as the benchmark writes its data
    webhook_secret: str
    label: str

    @property
    def url(self) -> str:
        return self.process.url

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])

    def repository(self) -> Repository:
        return Repository(self.config.db_path)

    def clock_offset(self) -> float:
        answer = requests.get(f"{self.url}/_test/clock", timeout=30)
        answer.raise_for_status()
        return float(answer.json()["offset_seconds"])


def start_service(workdir: Path, sandbox: RunningServer, workers: int,
                  threads: int) -> ServiceUnderTest:
    """Register the service's webhook endpoint at the sandbox first (as one does in the
    Dashboard), so the benchmark knows the signing secret the service verifies with."""
    port = free_port()
    folder = workdir / "service"
    config = service_config(folder, sandbox.url, public_url=f"http://127.0.0.1:{port}",
                            db_path=str(folder / "service.sqlite3"))
    endpoint = register_webhook_endpoint(config)
    process = start_service_process(folder, sandbox.url, port=port, workers=workers,
                                    threads=threads, test_mode=True,
                                    env={"STRIPE_WEBHOOK_SECRET": endpoint.secret})
    return ServiceUnderTest(process, sandbox, config, endpoint.secret,
                            f"service {workers}w x {threads}t")


def start_bare_flask(workdir: Path, workers: int, threads: int,
                     timeout: float = 30.0) -> RunningServer:
    port = free_port()
    log_path = str(workdir / f"bare-flask-{port}.log")
    command = [sys.executable, "-m", "simulator.bench.bare_flask", "--port", str(port),
               "--workers", str(workers), "--threads", str(threads)]
    with open(log_path, "ab") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    deadline = monotonic() + timeout
    while monotonic() < deadline and process.poll() is None:
        try:
            if requests.post(f"{url}{WEBHOOK_PATH}", data=b"{}", timeout=1).status_code == 200:
                return RunningServer(url, process, "", log_path)
        except requests.RequestException:
            pass
        time.sleep(0.05)
    process.kill()
    raise RuntimeError(f"bare Flask app did not answer:\n{Path(log_path).read_text()[-4000:]}")


# -- seeding --------------------------------------------------------------------------------
@dataclass(frozen=True)
class SeededWin:
    id: str
    api_token: str
    closes_at: int


def seed_wins(config: ServiceConfig, ended_at: Sequence[int], tag: str) -> list[SeededWin]:
    """One buyer (with an API token) and one win per ``ended_at``, recorded through the
    payment core (the win, its audit entry and its ``close_window`` job) in one
    transaction, as the auction house does when auctions end."""
    repo = Repository(config.db_path)
    clock = Clock(clock_offset_file(config).read)
    core = PaymentService(repo, StripeGateway(config, clock), clock, config, None,
                          ReceiptStore(config.receipts_dir))
    ids, lots, seeded = IdGenerator(), demo_lots(), []
    try:
        with repo.transaction():
            for index, ended in enumerate(ended_at):
                buyer, win = _buyer_and_win(ids, lots[index % len(lots)], f"{tag}-{index}",
                                            ended)
                repo.add_user(buyer)
                core.record_win(win)
                closes = ended + config.payment_window_hours * HOUR
                seeded.append(SeededWin(win.id, buyer.api_token, closes))
    finally:
        repo.close()
    return seeded


def _buyer_and_win(ids: IdGenerator, lot: Mapping[str, Any], name: str,
                   ended_at: int) -> tuple[User, AuctionWin]:
    """A winning bidder and what they won: one of the demo lots, at its price."""
    buyer = User(ids.new("usr", 14), f"Bidder {name}", f"bidder-{name}@example.test",
                 "buyer", ids.new("tok", 32), "US")
    win = AuctionWin(ids.new("win", 14), int(lot["lot"]), str(lot["title"]), "sel_bench",
                     buyer.id, int(lot["amount"]), str(lot["currency"]), ended_at)
    return buyer, win


def checkout_call(win: SeededWin) -> Call:
    return Call(CHECKOUT_PATH, json.dumps({"auction_id": win.id}).encode(), {
        "Authorization": f"Bearer {win.api_token}", "Content-Type": "application/json",
        "Accept": "application/json", "User-Agent": USER_AGENT,
    })


# -- 1. checkout create -----------------------------------------------------------------------
def new_win_calls(wins: Sequence[SeededWin]) -> CallMaker:
    """Each call for the next win nobody has asked for yet; None once all are taken."""
    calls = [checkout_call(win) for win in wins]
    taken = iter(range(len(calls)))
    lock = threading.Lock()

    def make(worker: int, n: int) -> Call | None:
        with lock:
            index = next(taken, None)
        return None if index is None else calls[index]

    return make


def repeat_calls(wins: Sequence[SeededWin], concurrency: int) -> CallMaker:
    calls = [checkout_call(win) for win in wins]
    return lambda worker, n: calls[(n * concurrency + worker) % len(calls)]


@dataclass
class CheckoutFigures:
    rows: list[Measurement]
    checks: list[Check]
    sandbox_cpu_ms: dict[str, float | None]


def bench_checkout(plan: ServiceBenchPlan, sut: ServiceUnderTest,
                   wins: Sequence[SeededWin]) -> CheckoutFigures:
    """Every win once (a Checkout Session each), then the wins that got one, again."""
    pids = {"server_pid": sut.process.process.pid, "sandbox_pid": sut.sandbox.process.pid}
    load = Load(sut.label, "checkout create", "new win", sut.port, new_win_calls(wins), 201,
                **pids)
    first, tally = _run(plan, load)
    if first.seconds < plan.duration:
        plan.log(f"  the {len(wins)} wins ran out after {first.seconds:g}s; pass more --wins")
    sessions, opened = _sessions_made(sut, wins)
    figures = CheckoutFigures([first], [
        Check("Checkout Sessions made, one per win created", tally.expected, sessions,
              tally.expected == sessions)], {first.phase: tally.sandbox_cpu_ms})
    if opened:
        again = Load(sut.label, "checkout create", "double click", sut.port,
                     repeat_calls(opened, plan.concurrency), 200, **pids)
        second, tally = _run(plan, again)
        after, _ = _sessions_made(sut, wins)
        figures.rows.append(second)
        figures.checks.append(Check("no session made by a double click", sessions, after,
                                    after == sessions))
        figures.sandbox_cpu_ms[second.phase] = tally.sandbox_cpu_ms
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


def _run(plan: ServiceBenchPlan, load: Load) -> tuple[Measurement, _Tally]:
    plan.log(f"{load.target}: {load.workload} ({load.phase}), {plan.concurrency} clients"
             f" for {plan.duration:g}s")
    row, tally = run_load(load, concurrency=plan.concurrency, warmup=plan.warmup,
                          duration=plan.duration)
    plan.log(f"  {row.rps:,.1f} req/s, p50 {row.p50_ms} ms, p95 {row.p95_ms} ms,"
             f" p99 {row.p99_ms} ms, {row.errors} errors")
    return row, tally


def _count(sut: ServiceUnderTest, table: str, where: str = "", *params: Any) -> int:
    repo = sut.repository()
    try:
        return repo.count(table, where, *params)
    finally:
        repo.close()


# -- 2. webhooks ----------------------------------------------------------------------------
@dataclass(frozen=True)
class EventTemplate:
    """A real event from the sandbox, as its dispatcher would send it (pretty-printed),
    and the ids each copy replaces."""

    text: str
    event_id: str
    object_id: str

    def render(self, event_id: str, object_id: str) -> str:
        return self.text.replace(self.event_id, event_id).replace(self.object_id, object_id)

    @property
    def object_prefix(self) -> str:
        return self.object_id[: self.object_id.rindex("_") + 1]


def fetch_event_templates(sandbox_url: str, api_key: str) -> list[EventTemplate]:
    """A ``checkout.session.expired`` and a ``payment_intent.payment_failed``, made
    through the official SDK before the service's endpoint exists (so they are never
    delivered to it)."""
    client = stripe.StripeClient(api_key, base_addresses={"api": sandbox_url},
                                 max_network_retries=0)
    session = client.v1.checkout.sessions.create(params={
        "mode": "payment", "success_url": "https://example.com/success",
        "line_items": [{"quantity": 1, "price_data": {
            "currency": "usd", "unit_amount": 64_200, "product_data": {"name": "Lot 17"}}}],
    })
    client.v1.checkout.sessions.expire(session.id)
    with contextlib.suppress(stripe.CardError):  # declined, as asked
        client.v1.payment_intents.create(params={
            "amount": 64_200, "currency": "usd", "payment_method": "pm_card_visa_chargeDeclined",
            "confirm": True, "automatic_payment_methods": {"enabled": True,
                                                           "allow_redirects": "never"}})
    return [_template(client, "checkout.session.expired"),
            _template(client, "payment_intent.payment_failed")]


def _template(client: stripe.StripeClient, event_type: str) -> EventTemplate:
    listed = client.raw_request("get", "/v1/events", type=event_type, limit=1)
    event = listed.data["data"][0]
    return EventTemplate(json.dumps(event, indent=2), event["id"], event["data"]["object"]["id"])


class WebhookFeed:
    """Deliveries as the sandbox makes them, signed with the service's secret at the
    service's time: new events (of either template, for objects the service does not
    own) and re-deliveries from a pool of events it has already processed."""

    POOL_SERIES = 0xFF

    def __init__(self, templates: Sequence[EventTemplate], secret: str, clock_offset: float,
                 tag: str, pool_size: int) -> None:
        self.templates = list(templates)
        self.secret = secret
        self.clock_offset = clock_offset
        self.tag = tag
        self.pool = [self.new_payload(self.POOL_SERIES, 0, n) for n in range(pool_size)]

    @property
    def event_prefix(self) -> str:
        return f"evt_{self.tag}"

    def new_payload(self, series: int, worker: int, n: int) -> str:
        """A new event: its id (and its object's) unique to the series, worker and call;
        its template chosen by the id's checksum, so every mix of calls gets both."""
        suffix = f"{series:02x}{worker:02x}{n:08x}"
        template = self.templates[zlib.crc32(suffix.encode()) % len(self.templates)]
        return template.render(f"{self.event_prefix}{suffix}",
                               f"{template.object_prefix}{self.tag}{suffix}")

    def call(self, payload: str, kind: str) -> Call:
        timestamp = int(system_time() + self.clock_offset)
        headers = {**BASE_HEADERS,
                   "Stripe-Signature": signature_header(payload, [self.secret], timestamp)}
        return Call(WEBHOOK_PATH, payload.encode(), headers, kind)

    def maker(self, series: int, duplicate_share: float) -> CallMaker:
        """Duplicates spread evenly: ``duplicate_share`` of every worker's calls."""

        def make(worker: int, n: int) -> Call:
            if int((n + 1) * duplicate_share) > int(n * duplicate_share):
                return self.call(self.pool[(n * 7919 + worker) % len(self.pool)], "duplicate")
            return self.call(self.new_payload(series, worker, n), "new")

        return make


def deliver_pool(sut: ServiceUnderTest, feed: WebhookFeed) -> int:
    """Each pool event once, so that sending it again is a duplicate; the number taken."""
    connection = _Connection(sut.port)
    accepted = sum(connection.post(feed.call(payload, "new"))[0] == 200 for payload in feed.pool)
    connection.close()
    return accepted


def bench_webhooks(plan: ServiceBenchPlan, sut: ServiceUnderTest,
                   templates: Sequence[EventTemplate],
                   workdir: Path) -> tuple[list[Measurement], list[Check]]:
    """New events, duplicates, and a mix of both; then the mix against the bare app."""
    feed = WebhookFeed(templates, sut.webhook_secret, sut.clock_offset(),
                       IdGenerator().token(8), plan.duplicate_pool)
    new_events = deliver_pool(sut, feed)
    mixed = f"mixed {plan.duplicate_share:.0%} dup"
    rows = []
    for series, (phase, share) in enumerate(
            (("new event", 0.0), ("duplicate", 1.0), (mixed, plan.duplicate_share))):
        load = Load(sut.label, "webhook", phase, sut.port, feed.maker(series, share), 200,
                    sut.process.process.pid)
        row, tally = _run(plan, load)
        rows.append(row)
        new_events += tally.expected_by_kind.get("new", 0)
    rows.append(bench_bare(plan, workdir, feed.maker(0x10, plan.duplicate_share), mixed))
    stored = _count(sut, "webhook_inbox", "WHERE event_id LIKE ? AND status = 'processed'",
                    f"{feed.event_prefix}%")
    return rows, [Check("events stored and processed, each once", new_events, stored,
                        new_events == stored)]


def bench_bare(plan: ServiceBenchPlan, workdir: Path, make: CallMaker, phase: str) -> Measurement:
    """The same load against a bare Flask endpoint under the same gunicorn settings."""
    server = start_bare_flask(workdir, plan.workers, plan.threads)
    try:
        load = Load(f"bare flask {plan.workers}w x {plan.threads}t", "webhook", phase,
                    int(server.url.rsplit(":", 1)[1]), make, 200, server.process.pid)
        row, _ = _run(plan, load)
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
                                   json={"seconds": step}, timeout=120)
            answer.raise_for_status()
            self.offset = float(answer.json()["offset_seconds"])
        time.sleep(max(0.0, target - self.now()))


def create_checkout(sut: ServiceUnderTest, win: SeededWin) -> int:
    call = checkout_call(win)
    answer = requests.post(f"{sut.url}{call.path}", data=call.body, headers=dict(call.headers),
                           timeout=60)
    return answer.status_code


def probe_window_edges(sut: ServiceUnderTest, clocks: Clocks) -> list[WindowProbe]:
    """A create just before a win's window ends, and just after; its window ends before
    the checkout wins' ones (``EDGE_WIN_AGE``), whose jobs must not come due."""
    now = int(clocks.now())
    (win,) = seed_wins(sut.config, [now - EDGE_WIN_AGE], "edge")
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
    hours = sut.config.payment_window_hours
    wins = seed_wins(sut.config, [first + i - hours * HOUR for i in range(count)], "close")
    refused = sum(create_checkout(sut, win) != 201 for win in wins)
    due = {win.id: float(win.closes_at) for win in wins}
    started, done = watch_close_jobs(sut.config.db_path, due, clocks,
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
        sandbox = start_sandbox(workdir / "sandbox", workers=plan.sandbox_workers,
                                threads=plan.sandbox_threads)
        try:
            templates = fetch_event_templates(sandbox.url, SERVICE_TEST_KEY)
            sut = start_service(workdir, sandbox, plan.workers, plan.threads)
            try:
                return _measure(plan, sut, templates, workdir)
            finally:
                sut.process.stop()
        finally:
            sandbox.stop()
    finally:
        if plan.keep_files:
            plan.log(f"files kept in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


def _measure(plan: ServiceBenchPlan, sut: ServiceUnderTest, templates: Sequence[EventTemplate],
             workdir: Path) -> ServiceBenchReport:
    plan.log(f"{sut.label}: seeding {plan.wins:,} wins and their buyers")
    now = int(Clocks(sut).now())
    wins = seed_wins(sut.config, [now - 60] * plan.wins, "checkout")
    checkout = bench_checkout(plan, sut, wins)
    webhook_rows, webhook_checks = bench_webhooks(plan, sut, templates, workdir)
    window, window_checks = bench_window(plan, sut)
    report = ServiceBenchReport(
        service=sut.label, sandbox=f"sandbox {plan.sandbox_workers}w x {plan.sandbox_threads}t",
        rows=checkout.rows + webhook_rows, webhook_vs_bare=_rps_ratios(webhook_rows),
        webhook_vs_bare_cpu=_cpu_ratios(webhook_rows), sandbox_cpu_ms=checkout.sandbox_cpu_ms,
        window=window, checks=checkout.checks + webhook_checks + window_checks)
    report.goals = goals(report)
    return report


def _rps_ratios(rows: Sequence[Measurement]) -> dict[str, float]:
    """Each webhook row against the last row, the bare endpoint's."""
    bare = rows[-1].rps
    return {row.phase: round(row.rps / bare, 3) if bare else 0.0 for row in rows[:-1]}


def _cpu_ratios(rows: Sequence[Measurement]) -> dict[str, float]:
    bare = rows[-1].server_cpu_ms
    return {row.phase: round(bare / row.server_cpu_ms, 3) for row in rows[:-1]
            if bare and row.server_cpu_ms}


def goals(report: ServiceBenchReport) -> list[Goal]:
    """The issue's aims, each with the figure that meets or misses it."""
    found = [Goal(f"checkout create p95 ({row.phase})", f"< {CHECKOUT_P95_GOAL_MS:g} ms",
                  f"{row.p95_ms:.1f} ms", row.p95_ms < CHECKOUT_P95_GOAL_MS)
             for row in report.rows if row.workload == "checkout create"]
    cpu = report.webhook_vs_bare_cpu
    found += [Goal(f"webhook req/s vs bare Flask ({phase})", f">= {WEBHOOK_RATIO_GOAL:.2f}",
                   f"{ratio:.2f} (by CPU per request: {cpu.get(phase, 0):.2f})",
                   ratio >= WEBHOOK_RATIO_GOAL)
              for phase, ratio in report.webhook_vs_bare.items()]
    window = report.window
    edges = ", ".join(f"{p.seconds_from_end:+.2f}s -> {p.status}" for p in window.probes)
    found.append(Goal("window: create allowed 1 s before its end, 410 1 s after",
                      "201, 410", edges, all(p.status == p.expected for p in window.probes)))
    worst = max(window.closed_late_ms, default=math.inf) / 1000
    found.append(Goal("window: close_window done after the end (max)",
                      f"<= {LATENESS_GOAL_SECONDS:g} s", f"{worst:.3f} s",
                      worst <= LATENESS_GOAL_SECONDS and window.closed == window.windows))
    return found


# -- output ---------------------------------------------------------------------------------
def format_report(report: ServiceBenchReport) -> str:
    lines = [f"{report.service} against {report.sandbox}", "", format_table(report.rows), ""]
    lines += [f"sandbox CPU per checkout create ({phase}): {ms} ms"
              for phase, ms in report.sandbox_cpu_ms.items() if ms is not None]
    lines += [f"webhook {phase}: {ratio:.2f}x the bare endpoint's requests/s,"
              f" {report.webhook_vs_bare_cpu.get(phase, 0):.2f}x by server CPU per request"
              for phase, ratio in report.webhook_vs_bare.items()]
    window = report.window
    lines += ["", f"payment window ({window.windows} windows, scheduler tick"
              f" {window.tick_seconds:g} s): {window.closed} closed"]
    for name, values in (("job claimed", window.started_late_ms),
                         ("job done", window.closed_late_ms)):
        ordered = sorted(values)
        lines.append(f"  {name} after the window's end: p50 {percentile(ordered, 0.5):.0f} ms,"
                     f" p95 {percentile(ordered, 0.95):.0f} ms,"
                     f" max {max(ordered, default=0):.0f} ms")
    lines += ["", "checks:"] + [f"  [{'ok' if c.ok else 'FAIL'}] {c.name}: {c.actual}"
                                 f" (expected {c.expected})" for c in report.checks]
    lines += ["", "goals:"] + [f"  [{'met' if g.met else 'MISSED'}] {g.name}: {g.actual}"
                                f" (goal {g.target})" for g in report.goals]
    return "\n".join(lines)


def as_json(report: ServiceBenchReport) -> str:
    return json.dumps({**asdict(report), "broken": report.broken}, indent=2)
