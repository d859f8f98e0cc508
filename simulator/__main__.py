"""The command line: ``python -m simulator`` (installed as ``stripe-sim``)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from urllib.parse import urlsplit

import requests
import stripe

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
    """Run one sub-command. A mistake or a refusal the user can act on is one line on
    stderr and exit status 2 (Ctrl-C: 130), never a traceback."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.run(args) or 0)
    except CommandError as error:
        return _refused(args.command, str(error))
    except (requests.ConnectionError, stripe.APIConnectionError) as error:
        return _refused(args.command, f"cannot connect: {_where(error, args)} is not answering"
                        " (is it running? `stripe-sim up` starts everything)")
    except stripe.StripeError as error:
        return _refused(args.command, f"Stripe answered: {error.user_message or error}")
    except KeyboardInterrupt:
        return 130


def _refused(command: str, message: str) -> int:
    print(f"stripe-sim {command}: {message}", file=sys.stderr)
    return 2


def _where(error: Exception, args: argparse.Namespace) -> str:
    """The server a connection error was about: from the failed request when the
    library says, else from the command's own URL option."""
    url = getattr(getattr(error, "request", None), "url", None)
    for option in ("api_base", "stripe_api_base", "service_url", "sandbox_url"):
        url = url or getattr(args, option, None)
    if not url:
        return "the server"
    parts = urlsplit(str(url))
    return f"{parts.scheme}://{parts.netloc}"


if __name__ == "__main__":
    sys.exit(main())
