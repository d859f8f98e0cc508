"""``stripe-sim bench``: load benchmarks (append ``BENCH`` to ``commands.ALL``).

    stripe-sim bench sandbox --start 2x4 --bare 2x4 --rounds 3 \\
        --base-url stripe-mock=http://127.0.0.1:12111 --workloads create-confirm-pi
    stripe-sim bench seed --db .sandbox/sandbox.sqlite3 --objects 1000000
"""

from __future__ import annotations

import argparse
import sys

from simulator.cli.command import Command, CommandError
from simulator.cli.health import ServerFailed


def _configure(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="bench", required=True)
    sandbox = sub.add_parser(
        "sandbox", help="requests/s and latency of Stripe-compatible servers, side by side",
        description="Measure Stripe-compatible servers (the sandbox, localstripe, stripe-mock)"
        " on loopback with the SDK's own requests.",
    )
    sandbox.add_argument("--base-url", action="append", default=[], metavar="[NAME=]URL",
                         help="a running server on 127.0.0.1 (repeatable)")
    sandbox.add_argument("--server-pid", action="append", type=int, default=[], metavar="PID",
                         help="the process id of each --base-url server, in order, to report"
                         " its CPU time per request (Linux)")
    sandbox.add_argument("--start", action="append", default=[], metavar="WORKERSxTHREADS",
                         help="start a local sandbox with that many workers x threads, measure"
                         " it, stop it (repeatable; e.g. --start 2x4 --start 3x1)")
    sandbox.add_argument("--workloads", default="create-customer,create-confirm-pi,retrieve",
                         help="comma-separated: create-customer, create-confirm-pi,"
                         " create-checkout, retrieve")
    sandbox.add_argument("--bare", default=None, metavar="WORKERSxTHREADS",
                         help="also start a bare Flask endpoint served the same way (every"
                         " /v1 request answered 200 with no work), the yardstick")
    sandbox.add_argument("--baseline", default=None, metavar="NAME",
                         help="the target the ratios are printed against (default: the bare"
                         " endpoint when started, else the first target)")
    sandbox.add_argument("--rounds", type=int, default=1,
                         help="measure every target this many times, interleaved, so a"
                         " shared machine's noise falls on all of them alike")
    sandbox.add_argument("--concurrency", type=int, default=8, help="Locust users")
    sandbox.add_argument("--processes", type=int, default=1,
                         help="Locust processes the users are spread over")
    sandbox.add_argument("--duration", type=float, default=10.0, help="seconds measured")
    sandbox.add_argument("--warmup", type=float, default=1.0,
                         help="seconds of load, not measured, before the first round")
    sandbox.add_argument("--api-key", default="sk_test_bench")
    sandbox.add_argument("--seed-objects", type=int, default=0, metavar="N",
                         help="then insert N objects into the store and measure again")
    sandbox.add_argument("--db", default=None,
                         help="the SQLite file of the first --base-url (for --seed-objects)")
    sandbox.add_argument("--retrieve-pool", type=int, default=100,
                         help="customers created for the retrieve workload")
    sandbox.add_argument("--workdir", default=None,
                         help="where started sandboxes keep their databases (default: /tmp)")
    sandbox.add_argument("--keep-files", action="store_true",
                         help="keep started sandboxes' databases after the run")
    sandbox.add_argument("--json", action="store_true", help="print JSON instead of a table")
    sandbox.set_defaults(bench_run=_run_sandbox)

    webhooks = sub.add_parser(
        "webhooks", help="webhook deliveries/s and the time from an event to its delivery",
        description="Create payments (or customers) and time each event's signed delivery to a"
        " local receiver that verifies it and answers 200.",
    )
    webhooks.add_argument("--base-url", default=None, help="a running sandbox on 127.0.0.1")
    webhooks.add_argument("--start", default="2x1", metavar="WORKERSxTHREADS",
                          help="start a local sandbox when no --base-url is given")
    webhooks.add_argument("--events", type=int, default=500)
    webhooks.add_argument("--concurrency", type=int, default=4, help="Locust users")
    webhooks.add_argument("--timeout", type=float, default=60.0,
                          help="seconds to wait for the last deliveries after the load")
    webhooks.add_argument("--source", choices=("payment", "customer"), default="payment")
    webhooks.set_defaults(bench_run=_run_webhooks)

    service = sub.add_parser(
        "service", help="the payment service: checkout create, webhook intake, window precision",
        description="Start a sandbox and the payment service (gunicorn, test mode) on loopback,"
        " seed wins through the auction API, and measure with Locust checkout create (new"
        " wins, then double clicks) and signed webhooks about real paid sessions (new,"
        " duplicate, mixed) against a bare Flask endpoint served the same way; then how"
        " precisely payment windows close.",
    )
    service.add_argument("--concurrency", type=int, default=8, help="Locust users")
    service.add_argument("--duration", type=float, default=10.0,
                         help="seconds per load")
    service.add_argument("--wins", type=int, default=1000,
                         help="wins seeded for the new-win creates (one create each)")
    service.add_argument("--workers", type=int, default=2,
                         help="service (and bare Flask) worker processes")
    service.add_argument("--threads", type=int, default=4, help="threads per worker")
    service.add_argument("--sandbox", default="2x4", metavar="WORKERSxTHREADS",
                         help="the sandbox the service talks to")
    service.add_argument("--paid-sessions", type=int, default=20,
                         help="real paid sessions the webhook events are about (their own"
                         " events are the duplicates)")
    service.add_argument("--duplicate-share", type=float, default=0.5,
                         help="share of duplicates in the mixed webhook load")
    service.add_argument("--window-wins", type=int, default=20,
                         help="payment windows timed as they close, one per second")
    service.add_argument("--workdir", default=None, help="where the servers keep their files")
    service.add_argument("--keep-files", action="store_true")
    service.add_argument("--json", action="store_true", help="print JSON instead of a table")
    service.set_defaults(bench_run=_run_service)

    seed = sub.add_parser("seed", help="bulk-insert objects into a sandbox's SQLite file")
    seed.add_argument("--db", required=True)
    seed.add_argument("--objects", type=int, required=True)
    seed.set_defaults(bench_run=_run_seed)

    from simulator.bench.stripe_python_suite import add_parser as add_stripe_python

    add_stripe_python(sub)


def _run_sandbox(args: argparse.Namespace) -> int:
    from simulator.bench.measurement import as_json, format_ratios, format_table
    from simulator.bench.sandbox import BARE, BenchPlan, run_plan

    log = (lambda line: print(line, file=sys.stderr, flush=True)) if args.json else print
    plan = BenchPlan(
        base_urls=args.base_url, workloads=[w.strip() for w in args.workloads.split(",")],
        server_pids=args.server_pid, concurrency=args.concurrency, processes=args.processes,
        duration=args.duration, warmup=args.warmup, api_key=args.api_key, start=args.start,
        bare=args.bare, rounds=args.rounds, seed_objects=args.seed_objects, db=args.db,
        retrieve_pool=args.retrieve_pool, workdir=args.workdir, keep_files=args.keep_files,
        log=log,
    )
    if plan.problems():
        print("; ".join(plan.problems()), file=sys.stderr)
        return 2
    try:
        rows = run_plan(plan)
    except ServerFailed as failed:
        raise CommandError(f"a server failed to start: {failed.reason}") from None
    baseline = args.baseline or (BARE if args.bare else rows[0].target if rows else "")
    if args.json:
        print(as_json(rows, {"baseline": baseline}))
    else:
        print("\n" + format_table(rows) + "\n\n" + format_ratios(rows, baseline))
    return 1 if any(row.errors for row in rows) else 0


def _run_webhooks(args: argparse.Namespace) -> int:
    import tempfile
    from pathlib import Path

    from simulator.bench.servers import start_sandbox
    from simulator.bench.webhooks import measure_webhook_delivery

    if args.base_url:
        result = measure_webhook_delivery(args.base_url, events=args.events,
                                          concurrency=args.concurrency, source=args.source,
                                          timeout=args.timeout)
        print(result.summary())
        return 0 if result.delivered == result.events else 1
    workers, threads = (int(n) for n in args.start.split("x"))
    with tempfile.TemporaryDirectory() as workdir:
        server = start_sandbox(Path(workdir), workers=workers, threads=threads)
        try:
            result = measure_webhook_delivery(server.url, events=args.events,
                                              concurrency=args.concurrency, source=args.source,
                                              timeout=args.timeout,
                                              server_pid=server.process.pid)
        finally:
            server.stop()
    print(f"sandbox {args.start}: {result.summary()}")
    return 0 if result.delivered == result.events else 1


def _run_service(args: argparse.Namespace) -> int:
    """Exit 1 when requests failed or the database was left wrong; missed goals are
    figures, not failures."""
    from simulator.bench.sandbox import SandboxSpec
    from simulator.bench.service import ServiceBenchPlan, run_service_bench
    from simulator.bench.service_report import as_json, format_report

    sandbox = SandboxSpec.parse(args.sandbox)
    log = (lambda line: print(line, file=sys.stderr, flush=True)) if args.json else print
    plan = ServiceBenchPlan(
        concurrency=args.concurrency, duration=args.duration,
        wins=args.wins, workers=args.workers, threads=args.threads,
        sandbox_workers=sandbox.workers, sandbox_threads=sandbox.threads,
        paid_sessions=args.paid_sessions, duplicate_share=args.duplicate_share,
        window_wins=args.window_wins, workdir=args.workdir, keep_files=args.keep_files, log=log,
    )
    if plan.problems():
        print("; ".join(plan.problems()), file=sys.stderr)
        return 2
    try:
        report = run_service_bench(plan)
    except ServerFailed as failed:
        raise CommandError(f"a server failed to start: {failed.reason}") from None
    print(as_json(report) if args.json else "\n" + format_report(report))
    return 1 if report.broken else 0


def _run_seed(args: argparse.Namespace) -> int:
    from simulator.bench.seed import seed

    report = seed(args.db, args.objects, progress=print)
    print(f"inserted {report.rows:,} rows in {report.seconds}s ({report.rows_per_second:,.0f}/s);"
          f" {report.total_objects:,} objects in {args.db}; by type: {report.by_type}")
    return 0


def _dispatch(args: argparse.Namespace) -> int:
    return int(args.bench_run(args) or 0)


BENCH = Command("bench", "Load benchmarks of the sandbox, other Stripe-compatible servers and"
                " the payment service.",
                _configure, _dispatch)
