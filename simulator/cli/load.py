"""``stripe-sim load``: Locust against the checkout and webhook routes, headless, with
pass/fail checks.

    stripe-sim load --users 12 --run-time 60s --html load.html --csv load
    stripe-sim load --persona buyer --budget "POST /payments/checkout/create=500"
    stripe-sim load --master --expect-workers 2 --master-bind-host 0.0.0.0   # machine A
    stripe-sim load --worker --master-host machine-a                         # machines B, C

It starts a sandbox and the payment service (test mode, gunicorn, several workers, free
loopback ports, a temporary folder) unless ``--service-url``/``--sandbox-url`` name
running ones, seeds buyers, runs Locust's personas (``load/``) for a bounded time, and
exits 1 when a request failed, a route's p95 is over its budget, or the correctness
check finds the databases wrong (``simulator.bench.load_check``)."""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlparse

from simulator.cli.command import Command, CommandError
from simulator.cli.health import ServerFailed

if TYPE_CHECKING:
    from simulator.bench.load_check import Correctness
    from simulator.bench.locust_run import LoadStats
    from simulator.bench.servers import Stack

HELP = "Load-test the checkout and webhook routes with Locust (headless, with pass/fail checks)."
MAX_USERS = 1000
MAX_RUN_SECONDS = 3600
AUCTION_TOKEN_VARIABLE = "AUCTION_API_TOKEN"


def configure(parser: argparse.ArgumentParser) -> None:
    from simulator.bench.locust_run import PERSONAS

    load = parser.add_argument_group("the load")
    load.add_argument("--users", type=int, default=8, help="concurrent Locust users")
    load.add_argument("--spawn-rate", type=float, default=4.0, help="users started per second")
    load.add_argument("--run-time", default="30s", help="how long (60, 60s, 1m30s)")
    load.add_argument("--persona", action="append", choices=sorted(PERSONAS), default=None,
                      help="repeatable (default: all three, weighted 4:2:2)")
    load.add_argument("--buyers", type=int, default=20, help="buyers seeded for the run")
    load.add_argument("--html", default=None, help="write Locust's HTML report here")
    load.add_argument("--csv", default=None, metavar="PREFIX",
                      help="write Locust's CSV files as PREFIX_stats.csv, ...")
    load.add_argument("--budget", action="append", default=[], metavar="ROUTE=MS",
                      help="p95 budget of the routes matching ROUTE (a Locust name or a"
                      " glob, e.g. 'POST /payments/checkout/create=500'); repeatable")
    load.add_argument("--settle-seconds", type=float, default=30.0,
                      help="how long to let deliveries and receipts finish after the load")
    targets = parser.add_argument_group("running servers (default: start them)")
    targets.add_argument("--service-url", default=None, help="a payment service in test mode")
    targets.add_argument("--sandbox-url", default=None, help="the sandbox it talks to")
    targets.add_argument("--service-db", default=None,
                         help="the service's SQLite file (to seed buyers and check orders);"
                         f" the auction token comes from {AUCTION_TOKEN_VARIABLE}")
    targets.add_argument("--workdir", default=None, help="where started servers keep files")
    targets.add_argument("--keep-files", action="store_true")
    spread = parser.add_argument_group("distributed (Locust's master and workers)")
    spread.add_argument("--master", action="store_true", help="run Locust as the master")
    spread.add_argument("--expect-workers", type=int, default=1)
    spread.add_argument("--master-bind-host", default="127.0.0.1",
                        help="the master's interface (0.0.0.0 for other machines)")
    spread.add_argument("--worker", action="store_true",
                        help="only run a Locust worker for a master elsewhere")
    spread.add_argument("--master-host", default="127.0.0.1")
    spread.add_argument("--master-port", type=int, default=5557)


# -- reading the command line ------------------------------------------------------------------
def _budgets(items: list[str]) -> dict[str, float]:
    from simulator.bench.locust_run import DEFAULT_BUDGETS

    budgets = dict(DEFAULT_BUDGETS)
    for item in items:
        route, sep, value = item.rpartition("=")
        try:
            milliseconds = float(value)
        except ValueError:
            milliseconds = -1.0
        if not sep or not route.strip() or milliseconds <= 0:
            raise CommandError(f"--budget {item!r}: give ROUTE=MILLISECONDS, e.g."
                               " 'POST /payments/checkout/create=500'")
        budgets[route.strip()] = milliseconds
    return budgets


def _check_args(args: argparse.Namespace) -> None:
    from simulator.bench.locust_run import run_seconds

    if args.master and args.worker:
        raise CommandError("--master and --worker exclude each other")
    if not 1 <= args.users <= MAX_USERS:
        raise CommandError(f"--users must be 1 to {MAX_USERS}")
    if not 0 < args.spawn_rate <= MAX_USERS:
        raise CommandError("--spawn-rate must be over 0")
    if not 1 <= args.buyers <= 1000:
        raise CommandError("--buyers must be 1 to 1000")
    if args.master and not 1 <= args.expect_workers <= 100:
        raise CommandError("--expect-workers must be 1 to 100")
    if not 1 <= args.master_port <= 65535:
        raise CommandError("--master-port must be a TCP port")
    try:
        seconds = run_seconds(args.run_time)
    except ValueError as error:
        raise CommandError(f"--run-time: {error}") from None
    if not 1 <= seconds <= MAX_RUN_SECONDS:
        raise CommandError(f"--run-time must be 1 s to {MAX_RUN_SECONDS // 60} minutes")
    given = [args.service_url, args.sandbox_url, args.service_db]
    if any(given) and not all(given):
        raise CommandError("to target running servers give --service-url, --sandbox-url"
                           " and --service-db together")
    for url in (args.service_url, args.sandbox_url):
        if url and urlparse(url).scheme not in ("http", "https"):
            raise CommandError(f"{url!r} is not an http(s) URL")
    if args.service_db and not Path(args.service_db).is_file():
        raise CommandError(f"--service-db {args.service_db}: no such file")
    if args.service_url and not os.environ.get(AUCTION_TOKEN_VARIABLE):
        raise CommandError(f"set {AUCTION_TOKEN_VARIABLE} to the service's auction API token")
    for path in (args.html, args.csv):
        if path and not Path(path).resolve().parent.is_dir():
            raise CommandError(f"{path}: its folder does not exist")


# -- running ---------------------------------------------------------------------------------
def run(args: argparse.Namespace) -> int:
    _check_args(args)
    budgets = _budgets(args.budget)
    if args.worker:
        return _run_worker(args)
    workdir = Path(tempfile.mkdtemp(prefix="stripe-sim-load-", dir=args.workdir))
    stack = None
    try:
        if args.service_url:
            targets = (args.service_url.rstrip("/"), args.sandbox_url.rstrip("/"),
                       args.service_db, os.environ[AUCTION_TOKEN_VARIABLE])
        else:
            stack = _start_servers(workdir)
            targets = (stack.service.url, stack.sandbox.url, stack.service.server.db_path,
                       stack.service.auction_token)
        status = _load_and_check(args, budgets, workdir, *targets)
        if stack is not None:
            print(f"mails received by the mail catcher: {stack.mail.messages:,}")
        return status
    finally:
        if stack is not None:
            stack.stop()
        if args.keep_files:
            print(f"files kept in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


def _run_worker(args: argparse.Namespace) -> int:
    from simulator.bench.locust_run import LocustOptions, run_locust

    print(f"Locust worker for the master at {args.master_host}:{args.master_port}", flush=True)
    return run_locust(LocustOptions(role="worker", master_host=args.master_host,
                                    master_port=args.master_port))


def _start_servers(workdir: Path) -> Stack:
    from simulator.bench.servers import start_stack

    try:
        stack = start_stack(workdir)
    except ServerFailed as failed:
        raise CommandError(f"a server failed to start: {failed.reason}") from None
    print(f"sandbox {stack.sandbox.url}, payment service {stack.service.url} (gunicorn,"
          f" 2 workers x 4 threads each, test mode), mail catcher on port {stack.mail.port};"
          f" files in {workdir}", flush=True)
    return stack


def _load_and_check(args: argparse.Namespace, budgets: dict[str, float], workdir: Path,
                    service_url: str, sandbox_url: str, service_db: str,
                    auction_token: str) -> int:
    from simulator.bench.load_check import Targets, check
    from simulator.bench.load_plan import PLAN_VARIABLE, PlanError, make_plan
    from simulator.bench.locust_run import (
        LocustOptions,
        first_failures,
        persona_errors,
        read_stats,
        run_locust,
    )

    try:
        plan = make_plan(service_url, sandbox_url, service_db, auction_token, args.buyers)
    except PlanError as error:
        raise CommandError(str(error)) from None
    personas = tuple(dict.fromkeys(args.persona or ("buyer", "webhooks", "stripe_api")))
    csv_prefix = args.csv or str(workdir / "locust")
    json_file = str(workdir / "locust-stats")
    options = LocustOptions(
        users=args.users, spawn_rate=args.spawn_rate, run_time=args.run_time,
        personas=personas, host=service_url, csv_prefix=csv_prefix, json_file=json_file,
        html=args.html,
        role="master" if args.master else "local", expect_workers=args.expect_workers,
        master_bind_host=args.master_bind_host, master_port=args.master_port)
    where = (f"as master on {args.master_bind_host}:{args.master_port}, waiting for"
             f" {args.expect_workers} workers" if args.master else "")
    print(f"Locust: {args.users} users ({', '.join(personas)}) for {args.run_time} {where}",
          flush=True)
    exit_status = run_locust(options, {PLAN_VARIABLE: plan.to_json()},
                             workdir / "locust-summary.txt")
    if not Path(f"{json_file}.json").exists():
        raise CommandError(f"Locust stopped (exit status {exit_status}) without statistics")
    stats = read_stats(json_file, budgets)
    print("\n" + stats.table())
    print(f"\nsettling (deliveries and receipts, up to {args.settle_seconds:g} s),"
          " then checking the databases", flush=True)
    correctness = check(Targets(sandbox_url, plan.api_key, service_url, service_db),
                        settle_seconds=args.settle_seconds)
    print("correctness:\n" + "\n".join(correctness.lines()))
    errors = persona_errors(csv_prefix)
    if exit_status != 0 and not stats.total.failures and not errors:
        errors = [f"Locust exited with status {exit_status} (see its messages above)"]
    return _verdict(stats, correctness, first_failures(csv_prefix), errors, args)


def _verdict(stats: LoadStats, correctness: Correctness, failures: list[str],
             errors: list[str], args: argparse.Namespace) -> int:
    reasons = []
    if errors:
        reasons.append(f"{len(errors)} error(s) in the run itself (Locust or the personas'"
                       " code)")
    if stats.total.failures:
        reasons.append(f"{stats.total.failures:,} of {stats.total.requests:,} requests failed"
                       f" ({stats.failure_ratio:.2%})")
    if stats.total.requests == 0:
        reasons.append("no request was made")
    reasons += [f"p95 of {route.name} is {route.p95:g} ms, over its budget of {route.budget:g} ms"
                for route in stats.over_budget()]
    if not correctness.ok:
        reasons.append("the correctness check failed")
    for path, what in ((args.html, "HTML report"), (args.csv, "CSV files")):
        if path:
            print(f"{what}: {path}")
    if not reasons:
        print("\nPASS")
        return 0
    print("\nFAIL: " + "; ".join(reasons))
    for line in failures + errors:
        print(f"  {line}")
    return 1


LOAD = Command("load", HELP, configure, run)
