"""The ``stripe-sim`` sub-commands."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass
class Command:
    name: str
    help: str
    configure: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int | None]

    def add_to(self, sub: Any) -> None:
        parser = sub.add_parser(self.name, help=self.help, description=self.help)
        self.configure(parser)
        parser.set_defaults(run=self.run)


def _sandbox_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=12111)
    parser.add_argument("--db", default=".sandbox/sandbox.sqlite3", help="SQLite file")
    parser.add_argument("--workers", type=int, default=2, help="worker processes")
    parser.add_argument("--threads", type=int, default=4, help="threads per worker")
    parser.add_argument("--public-url", default=None,
                        help="the URL clients reach the sandbox at (default: from each request)")


def _run_sandbox(args: argparse.Namespace) -> int:
    from simulator.cli.serve import serve
    from simulator.sandbox.app import create_app
    from simulator.sandbox.runtime import SandboxConfig

    config = SandboxConfig(db_path=args.db, public_url=args.public_url, run_ticker=True)
    # Create the schema once before forking, so workers never race to create it.
    create_app(SandboxConfig(db_path=args.db))
    print(f"Stripe sandbox on http://{args.host}:{args.port} (db {args.db})", flush=True)
    serve(lambda: create_app(config), args.host, args.port, args.workers, args.threads)
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

def _up_args(parser: argparse.ArgumentParser) -> None:
    from simulator.cli import up

    up.configure(parser)


def _run_up(args: argparse.Namespace) -> int:
    from simulator.cli import up

    return up.run(args)


UP = Command("up", "Run the main job: the sandbox (and services) with demo data.",
             _up_args, _run_up)

def _listen_args(parser: argparse.ArgumentParser) -> None:
    from simulator.cli.listen import LISTEN

    LISTEN.configure(parser)


def _run_listen(args: argparse.Namespace) -> int | None:
    from simulator.cli.listen import LISTEN

    return LISTEN.run(args)


# simulator.cli.listen defines LISTEN with this module's Command: imported when used.
ALL: list[Command] = [
    UP,
    SANDBOX,
    COVERAGE,
    Command("listen", "Forward the sandbox's webhooks to a local URL, like `stripe listen`.",
            _listen_args, _run_listen),
]


def _trigger_args(parser: argparse.ArgumentParser) -> None:
    from simulator.cli import trigger

    trigger.configure(parser)


def _run_trigger(args: argparse.Namespace) -> int:
    from simulator.cli import trigger

    return trigger.run(args)


ALL.append(Command("trigger", "Create the objects that emit an event, like `stripe trigger`.",
                   _trigger_args, _run_trigger))
