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
                        " http://HOST:PORT, https:// with --tls-cert)")
    parser.add_argument("--receipts-dir", default=None)
    parser.add_argument("--tls-cert", default=None,
                        help="PEM certificate (chain): serve HTTPS, TLS 1.3 only")
    parser.add_argument("--tls-key", default=None, help="the certificate's PEM private key")
    parser.add_argument("--workers", type=int, default=2, help="worker processes")
    parser.add_argument("--threads", type=int, default=4, help="threads per worker")
    parser.add_argument("--test-mode", action="store_true",
                        help="enable the test routes (/_test/clock/advance, /_test/jobs/run,"
                        " /_test/reset, /_test/faults), for the test token (X-Test-Token:"
                        " SERVICE_TEST_TOKEN, else <db>.test-token) or a signed-in admin")
    parser.add_argument("--own-clock", action="store_true",
                        help="in test mode against the sandbox, keep a clock of its own"
                        " instead of following the sandbox's")
    parser.add_argument("--follow-sandbox-clock", action="store_true",
                        help="move with the sandbox's clock (`stripe-sim clock advance`)"
                        " without the other test routes (what `stripe-sim up` runs)")
    parser.add_argument("--no-scheduler", action="store_true",
                        help="do not run due jobs in the background")
    parser.add_argument("--seed-demo", action="store_true",
                        help="add demo buyers, an admin and auction wins (once)")


def service_config(args: argparse.Namespace) -> ServiceConfig:
    overrides: dict[str, Any] = {
        "public_url": args.public_url or f"{_scheme(args)}://{args.host}:{args.port}",
    }
    optional = {"db_path": args.db, "stripe_api_base": args.stripe_api_base,
                "receipts_dir": args.receipts_dir}
    overrides.update({name: value for name, value in optional.items() if value is not None})
    if args.test_mode:
        overrides["test_mode"] = True
    config = load_config(**overrides)
    following = (config.test_mode and not args.own_clock) or args.follow_sandbox_clock
    if following and not config.uses_real_stripe:
        config = dataclasses.replace(config, follow_sandbox_clock=True)
    return config


def _scheme(args: argparse.Namespace) -> str:
    return "https" if args.tls_cert else "http"


def prepare(config: ServiceConfig, *, seed_demo: bool = False) -> ServiceConfig:
    """What must happen once, before the workers fork, with this instance's lock held:
    the schema (and the demo data); claims left by processes of an earlier run released
    (they are all gone); reconciliation with Stripe due now; one session key for every
    worker; and the webhook endpoint made sure of (reused across restarts)."""
    from simulator.common.clock import Clock
    from simulator.service.adapters.encryption import DataCipher, DataKeyError
    from simulator.service.adapters.local_secrets import session_secret
    from simulator.service.adapters.repositories import Repository
    from simulator.service.adapters.webhook_endpoint import (
        SandboxUnreachable,
        endpoint_at_start,
    )
    from simulator.service.app import clock_offset_file
    from simulator.service.payments.events import HANDLED_EVENTS

    try:
        repo = Repository(config.db_path, cipher=DataCipher.from_config(config))
    except DataKeyError as error:
        raise CommandError(str(error)) from None
    print(f"Data at rest: encrypted with the key(s) in {repo.cipher.source}", flush=True)
    with repo.transaction():
        inbox, jobs = repo.release_webhook_claims(), repo.release_job_claims()
    if inbox or jobs:
        print(f"Recovering after a crash: {inbox} webhook events and {jobs} jobs were cut"
              " off; they run again now.", flush=True)
    if config.test_mode or config.follow_sandbox_clock:
        from simulator.service.adapters.control_token import control_token, token_path

        control_token(config)  # made once, before the workers fork, so all agree
        if config.test_mode:
            where = "SERVICE_TEST_TOKEN" if config.test_token else token_path(config.db_path)
            print(f"Test routes: on, for the token in {where} (X-Test-Token) or an admin",
                  flush=True)
    if config.follow_sandbox_clock:
        from simulator.service.adapters.sandbox_clock import follow_sandbox_clock

        if follow_sandbox_clock(config, clock_offset_file(config).set):
            print(f"Clock: following the sandbox's at {config.stripe_api_base}", flush=True)
    if seed_demo:
        _seed(repo, config)
    # One key for every worker, kept beside the database: sign-ins survive a restart.
    config = dataclasses.replace(config, session_secret=session_secret(config))
    if not config.stripe_webhook_secret:
        clock = Clock(clock_offset_file(config).read if _shared_clock(config) else None)
        try:
            endpoint, confirmed = endpoint_at_start(config, repo, clock, HANDLED_EVENTS)
        except SandboxUnreachable as error:
            raise CommandError(str(error)) from None
        unconfirmed = "" if confirmed else " (the sandbox is not reachable yet)"
        print(f"Webhook endpoint {endpoint.id} -> {endpoint.url}{unconfirmed}", flush=True)
    repo.close()
    return config


def _shared_clock(config: ServiceConfig) -> bool:
    """Whether the clock's offset lives in the file beside the database."""
    return config.test_mode or config.follow_sandbox_clock


def _seed(repo: Any, config: ServiceConfig) -> None:
    """The demo data once, and the demo accounts' credentials (kept owner-only in
    ``<db>.demo-accounts.json``, where ``stripe-sim up`` reads them to print)."""
    from simulator.common.clock import Clock
    from simulator.common.ids import IdGenerator
    from simulator.service.app import clock_offset_file
    from simulator.service.seed import demo_accounts, demo_accounts_path, seed_demo

    clock = Clock(clock_offset_file(config).read if _shared_clock(config) else None)
    demo = seed_demo(repo, clock, IdGenerator(), window_hours=config.payment_window_hours)
    path = demo_accounts_path(config.db_path)
    accounts = demo_accounts(repo, demo, path)
    print(f"Demo data: {len(demo.buyers)} buyers, {len(demo.wins)} wins; accounts"
          f" (passwords and API tokens) in {path}", flush=True)
    if not sys.stdout.isatty():
        return  # a log file (``stripe-sim up`` prints them itself): no passwords in it
    for account in accounts:
        print(f"  {account.role:<6} {account.email:<36} password {account.password}",
              flush=True)


def run(args: argparse.Namespace) -> int:
    from simulator.cli.serve import serve, tls_files
    from simulator.service.app import create_app

    tls = tls_files(args.tls_cert, args.tls_key)
    config = service_config(args)
    instance = claim_instance(args.host, args.port, config.db_path, "payment service")
    config = prepare(config, seed_demo=args.seed_demo)
    target = "Stripe test mode" if config.uses_real_stripe else config.stripe_api_base
    print(f"Payment service on {config.public_url}/payments/login (db {config.db_path},"
          f" Stripe: {target})", flush=True)
    try:
        serve(lambda: create_app(config, run_scheduler=not args.no_scheduler),
              args.host, args.port, args.workers, args.threads, tls)
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
