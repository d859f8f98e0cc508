"""``stripe-sim service``: the payment service alone, under gunicorn, with the scheduler
ticking in every worker (jobs are claimed with a lease, so that is safe).

Against the sandbox (the default) the service registers its webhook endpoint once,
before the workers fork, and hands them the signing secret; with
``STRIPE_SECRET_KEY=sk_test_…`` and no ``--stripe-api-base`` it talks to real Stripe in
test mode and needs ``STRIPE_WEBHOOK_SECRET``.
"""

from __future__ import annotations

import argparse
import dataclasses
import secrets
import sys
from typing import Any

from simulator.cli.command import Command, CommandError
from simulator.cli.instance import claim_instance, release
from simulator.service.config import ServiceConfig, load_config

HELP = "Run the payment service (story 12.1) against the sandbox or Stripe test mode."


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--db", default=None, help="SQLite file (default: SERVICE_DB or "
                        ".sandbox/service.sqlite3)")
    parser.add_argument("--stripe-api-base", default=None,
                        help="the sandbox's URL (default: STRIPE_API_BASE, else"
                        " http://127.0.0.1:12111 unless STRIPE_SECRET_KEY is set)")
    parser.add_argument("--public-url", default=None,
                        help="where buyers and Stripe reach the service (default:"
                        " http://HOST:PORT)")
    parser.add_argument("--receipts-dir", default=None)
    parser.add_argument("--workers", type=int, default=2, help="worker processes")
    parser.add_argument("--threads", type=int, default=4, help="threads per worker")
    parser.add_argument("--test-mode", action="store_true",
                        help="enable /_test/clock/advance and /_test/jobs/run")
    parser.add_argument("--own-clock", action="store_true",
                        help="in test mode against the sandbox, keep a clock of its own"
                        " instead of following the sandbox's")
    parser.add_argument("--no-scheduler", action="store_true",
                        help="do not run due jobs in the background")
    parser.add_argument("--seed-demo", action="store_true",
                        help="add demo buyers, an admin and auction wins (once)")


def service_config(args: argparse.Namespace) -> ServiceConfig:
    overrides: dict[str, Any] = {
        "public_url": args.public_url or f"http://{args.host}:{args.port}",
    }
    optional = {"db_path": args.db, "stripe_api_base": args.stripe_api_base,
                "receipts_dir": args.receipts_dir}
    overrides.update({name: value for name, value in optional.items() if value is not None})
    if args.test_mode:
        overrides["test_mode"] = True
    config = load_config(**overrides)
    if config.test_mode and not config.uses_real_stripe and not args.own_clock:
        config = dataclasses.replace(config, follow_sandbox_clock=True)
    return config


def prepare(config: ServiceConfig, *, seed_demo: bool = False) -> ServiceConfig:
    """What must happen once, before the workers fork, with this instance's lock held:
    the schema (and the demo data); claims left by processes of an earlier run released
    (they are all gone); reconciliation with Stripe due now; one session key for every
    worker; and the webhook endpoint made sure of (reused across restarts)."""
    from simulator.common.clock import Clock
    from simulator.service.adapters.repositories import Repository
    from simulator.service.adapters.webhook_endpoint import (
        SandboxUnreachable,
        endpoint_at_start,
    )
    from simulator.service.app import clock_offset_file

    repo = Repository(config.db_path)
    with repo.transaction():
        inbox, jobs = repo.release_webhook_claims(), repo.release_job_claims()
    if inbox or jobs:
        print(f"Recovering after a crash: {inbox} webhook events and {jobs} jobs were cut"
              " off; they run again now.", flush=True)
    if config.follow_sandbox_clock:
        from simulator.service.adapters.sandbox_clock import follow_sandbox_clock

        if follow_sandbox_clock(config, clock_offset_file(config).set):
            print(f"Clock: following the sandbox's at {config.stripe_api_base}", flush=True)
    if seed_demo:
        _seed(repo, config)
    config = dataclasses.replace(config, session_secret=config.session_secret
                                 or secrets.token_hex(32))
    if not config.stripe_webhook_secret:
        clock = Clock(clock_offset_file(config).read if config.test_mode else None)
        try:
            endpoint, confirmed = endpoint_at_start(config, repo, clock)
        except SandboxUnreachable as error:
            raise CommandError(str(error)) from None
        unconfirmed = "" if confirmed else " (the sandbox is not reachable yet)"
        print(f"Webhook endpoint {endpoint.id} -> {endpoint.url}{unconfirmed}", flush=True)
    repo.close()
    return config


def _seed(repo: Any, config: ServiceConfig) -> None:
    from simulator.common.clock import Clock
    from simulator.common.ids import IdGenerator
    from simulator.service.app import clock_offset_file
    from simulator.service.seed import seed_demo

    clock = Clock(clock_offset_file(config).read if config.test_mode else None)
    demo = seed_demo(repo, clock, IdGenerator(), window_hours=config.payment_window_hours)
    print(f"Demo data: {len(demo.buyers)} buyers, {len(demo.wins)} wins; admin"
          f" {demo.admin.name} (API token {demo.admin.api_token})", flush=True)


def run(args: argparse.Namespace) -> int:
    from simulator.cli.serve import serve
    from simulator.service.app import create_app

    config = service_config(args)
    instance = claim_instance(args.host, args.port, config.db_path, "payment service")
    config = prepare(config, seed_demo=args.seed_demo)
    target = "Stripe test mode" if config.uses_real_stripe else config.stripe_api_base
    print(f"Payment service on {config.public_url}/payments/login (db {config.db_path},"
          f" Stripe: {target})", flush=True)
    try:
        serve(lambda: create_app(config, run_scheduler=not args.no_scheduler),
              args.host, args.port, args.workers, args.threads)
    finally:
        release(instance)
    return 0


SERVICE = Command("service", HELP, configure, run)


def main(argv: list[str] | None = None) -> int:
    """``python -m simulator.cli.service``: the same command without the umbrella CLI."""
    parser = argparse.ArgumentParser(prog="stripe-sim service", description=HELP)
    configure(parser)
    try:
        return run(parser.parse_args(argv))
    except CommandError as error:
        print(f"stripe-sim service: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
