"""The ``stripe-sim`` sub-commands."""

from __future__ import annotations

import argparse

from simulator.cli.bench import BENCH
from simulator.cli.clock import CLOCK
from simulator.cli.command import Command
from simulator.cli.instance import claim_instance, release
from simulator.cli.listen import LISTEN
from simulator.cli.service import SERVICE
from simulator.cli.trigger import TRIGGER
from simulator.cli.up import UP
from simulator.cli.wins import WINS


def _sandbox_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=12111)
    parser.add_argument("--db", default=".sandbox/sandbox.sqlite3", help="SQLite file")
    parser.add_argument("--workers", type=int, default=3, help="worker processes")
    parser.add_argument("--threads", type=int, default=1,
                        help="threads per worker (1: gunicorn's sync workers, the fastest here)")
    parser.add_argument("--merchant-name", default="Sandbox merchant",
                        help="the business name the hosted checkout page shows")
    parser.add_argument("--fsync", action="store_true",
                        help="make SQLite wait for the disk on commit (survives power cuts)")
    parser.add_argument("--public-url", default=None,
                        help="the URL clients reach the sandbox at (default: from each request)")


def _run_sandbox(args: argparse.Namespace) -> int:
    from simulator.cli.serve import serve
    from simulator.sandbox.app import create_app
    from simulator.sandbox.runtime import SandboxConfig

    config = SandboxConfig(db_path=args.db, public_url=args.public_url, run_ticker=True,
                           fsync=args.fsync, merchant_name=args.merchant_name)
    instance = claim_instance(args.host, args.port, args.db, "sandbox")
    try:
        # Create the schema once before forking, so workers never race to create it.
        create_app(SandboxConfig(db_path=args.db))
        print(f"Stripe sandbox on http://{args.host}:{args.port} (db {args.db})", flush=True)
        serve(lambda: create_app(config), args.host, args.port, args.workers, args.threads)
    finally:
        release(instance)
    return 0


SANDBOX = Command("sandbox", "Run the Stripe sandbox (Stripe's /v1 API on SQLite).",
                  _sandbox_args, _run_sandbox)


def _coverage_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--spec", default=None, help="Stripe OpenAPI spec (JSON)")
    parser.add_argument("--output", default="COVERAGE.md")


def _run_coverage(args: argparse.Namespace) -> int:
    from simulator.sandbox.coverage import write_coverage

    path = write_coverage(args.spec, args.output)
    print(f"wrote {path}")
    return 0


COVERAGE = Command("coverage", "Regenerate COVERAGE.md from Stripe's OpenAPI spec.",
                   _coverage_args, _run_coverage)

ALL: list[Command] = [UP, SANDBOX, SERVICE, CLOCK, WINS, LISTEN, TRIGGER, COVERAGE, BENCH]
