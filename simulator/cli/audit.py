"""``stripe-sim audit verify``: walk the payment service's hash-chained audit log.

Every entry carries the SHA-256 of the one before it and of itself
(``domain/audit.py``), and the newest entry's hash is recorded apart. An entry edited,
deleted (from the middle or the end) or added outside the service breaks the chain:
the command prints one line naming the first broken entry and exits 1. An intact log
prints ``audit log OK`` and exits 0. It reads a running service's database safely.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from simulator.cli.command import Command, CommandError
from simulator.service.config import ConfigError, load_config


def configure(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    verify = actions.add_parser("verify", help="Check that no audit entry was edited or"
                                " deleted.", description=__doc__.split("\n\n")[0])
    verify.add_argument("--db", default=None, help="SQLite file (default: SERVICE_DB or"
                        " .sandbox/service.sqlite3)")


def run(args: argparse.Namespace) -> int:
    from simulator.service.adapters.encryption import DataCipher, DataKeyError
    from simulator.service.adapters.repositories import Repository

    try:
        config = load_config(**({"db_path": args.db} if args.db else {}))
    except ConfigError as error:
        raise CommandError(str(error)) from None
    if not Path(config.db_path).is_file():
        raise CommandError(f"no database at {config.db_path}")
    try:
        repo = Repository(config.db_path, cipher=DataCipher.from_config(config))
    except DataKeyError as error:
        raise CommandError(str(error)) from None
    try:
        broken = repo.verify_audit_chain()
        entries, head = repo.count("audit_log"), repo.audit_head()
    finally:
        repo.close()
    if broken is not None:
        print(f"stripe-sim audit verify: {broken}", file=sys.stderr)
        return 1
    newest = f", newest {head[1][:16]}" if head else ""
    print(f"audit log OK: {entries} entries, every link holds{newest}")
    return 0


AUDIT = Command("audit", "Verify the payment service's hash-chained audit log.",
                configure, run)
