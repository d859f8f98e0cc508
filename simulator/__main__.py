"""The command line: ``python -m simulator`` (installed as ``stripe-sim``)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from simulator.cli import commands
from simulator.cli.command import CommandError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="stripe-sim",
        description="A local Stripe sandbox, a reference payment service and their harness.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    for command in commands.ALL:
        command.add_to(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.run(args) or 0)
    except CommandError as error:
        print(f"stripe-sim {args.command}: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
