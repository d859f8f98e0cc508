"""The ``stripe-sim`` sub-commands."""

from __future__ import annotations

import argparse
from pathlib import Path

from simulator.cli.audit import AUDIT
from simulator.cli.bench import BENCH
from simulator.cli.clock import CLOCK
from simulator.cli.command import Command, CommandError
from simulator.cli.instance import claim_instance, release
from simulator.cli.keys import KEYS
from simulator.cli.listen import LISTEN
from simulator.cli.load import LOAD
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
    parser.add_argument("--api-version", default=None,
                        help="the account's default API version, for requests without"
                             " Stripe-Version (default: $SANDBOX_DEFAULT_API_VERSION, else"
                             " the stored one, else 2025-09-30.clover)")
    parser.add_argument("--webhook-ca-bundle", default=None,
                        help="PEM CA certificates that webhook deliveries to https endpoints"
                             " trust (default: $SANDBOX_WEBHOOK_CA_BUNDLE, else the system's)")
    parser.add_argument("--fallback", choices=("fixtures",), default=None,
                        help="'fixtures': answer paths and ids the sandbox has no state for"
                             " with objects shaped by the stripe SDK, as stripe-mock does"
                             " (marked Stripe-Sim-Fallback; default: $SANDBOX_FALLBACK, else"
                             " off)")


def _run_sandbox(args: argparse.Namespace) -> int:
    from simulator.cli.serve import serve
    from simulator.sandbox.app import create_app
    from simulator.sandbox.runtime import SandboxConfig

    config = SandboxConfig(db_path=args.db, public_url=args.public_url, run_ticker=True,
                           fsync=args.fsync, merchant_name=args.merchant_name)
    config.default_api_version = _api_version(args.api_version or config.default_api_version)
    config.webhook_ca_bundle = _ca_bundle(args.webhook_ca_bundle or config.webhook_ca_bundle)
    config.fallback = _fallback(args.fallback or config.fallback)
    instance = claim_instance(args.host, args.port, args.db, "sandbox")
    try:
        # Create the schema once before forking, so workers never race to create it.
        create_app(SandboxConfig(db_path=args.db, default_api_version=config.default_api_version))
        print(f"Stripe sandbox on http://{args.host}:{args.port} (db {args.db})", flush=True)
        serve(lambda: create_app(config), args.host, args.port, args.workers, args.threads)
    finally:
        release(instance)
    return 0


def _api_version(version: str | None) -> str | None:
    from simulator.sandbox.errors import StripeError
    from simulator.sandbox.versions import validate

    try:
        return validate(version) if version else None
    except StripeError as error:
        raise CommandError(f"--api-version: {error.message}") from None


def _fallback(mode: str | None) -> str | None:
    if mode not in (None, "fixtures"):
        raise CommandError(f"--fallback {mode}: the only mode is 'fixtures'")
    return mode


def _ca_bundle(path: str | None) -> str | None:
    if path is not None and not Path(path).is_file():
        raise CommandError(f"--webhook-ca-bundle {path}: no such file")
    return path


SANDBOX = Command("sandbox", "Run the Stripe sandbox (Stripe's /v1 API on SQLite).",
                  _sandbox_args, _run_sandbox)


def _coverage_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--cli-fixtures", default=None,
                        help="the Stripe CLI's trigger fixtures folder (default: found)")
    parser.add_argument("--output", default="COVERAGE.md")


def _run_coverage(args: argparse.Namespace) -> int:
    from simulator.sandbox.coverage import write_coverage

    path = write_coverage(args.cli_fixtures, args.output)
    print(f"wrote {path}")
    return 0


COVERAGE = Command("coverage", "Regenerate COVERAGE.md from the pinned stripe SDK.",
                   _coverage_args, _run_coverage)

ALL: list[Command] = [UP, SANDBOX, SERVICE, CLOCK, WINS, LISTEN, TRIGGER, COVERAGE, BENCH,
                      LOAD, KEYS, AUDIT]
