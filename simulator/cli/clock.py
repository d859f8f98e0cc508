"""``stripe-sim clock show`` and ``stripe-sim clock advance 24h``: the one time of the
sandbox and every server following its clock (the payment service ``up`` runs)."""

from __future__ import annotations

import argparse
import re
from typing import Any

import requests

from simulator.cli.command import Command, CommandError

UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*$")


def parse_duration(text: str) -> int:
    """``90``, ``90s``, ``15m``, ``24h``, ``2d``, ``1w`` → seconds."""
    parts = [part for part in re.split(r"(?<=[smhdw])(?=\d)", text.strip()) if part]
    total = 0.0
    for part in parts:
        match = DURATION.match(part)
        if match is None:
            raise CommandError(f"not a duration: {text!r} (try 90s, 15m, 24h, 2d or 1h30m)")
        total += float(match.group(1)) * UNITS[match.group(2) or "s"]
    return int(total)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=("show", "advance"))
    parser.add_argument("duration", nargs="?", help="for advance: 90s, 15m, 24h, 2d, 1h30m")
    parser.add_argument("--sandbox-url", default="http://127.0.0.1:12111",
                        help="the sandbox (default: %(default)s)")


def run(args: argparse.Namespace) -> int:
    base = args.sandbox_url.rstrip("/")
    if args.action == "show":
        _print_clock(_call("GET", f"{base}/_sandbox/clock"))
        return 0
    if not args.duration:
        raise CommandError("clock advance needs a duration, e.g. 24h")
    seconds = parse_duration(args.duration)
    body = _call("POST", f"{base}/_sandbox/clock/advance", {"seconds": seconds})
    _print_clock(body)
    print(f"moved {seconds} s in {body.get('steps', 1)} steps: {body.get('jobs_run', 0)} jobs"
          f" run, {(body.get('webhooks') or {}).get('delivered', 0)} webhooks delivered")
    for url in body.get("followers_unreachable") or []:
        print(f"warning: {url} follows this clock but could not be told")
    return 0


def _print_clock(body: dict[str, Any]) -> None:
    followers = ", ".join(body.get("followers") or []) or "none"
    print(f"{body['iso']}  (offset {float(body['offset_seconds']):.0f} s; followers: "
          f"{followers})")


def _call(verb: str, url: str, data: dict[str, Any] | None = None) -> dict[str, Any]:
    try:
        answer = requests.request(verb, url, data=data, timeout=600)
        body: dict[str, Any] = answer.json()
    except requests.ConnectionError:
        raise CommandError(f"no sandbox at {url.split('/_sandbox')[0]}; start it with"
                           " `stripe-sim up` or pass --sandbox-url") from None
    except (requests.RequestException, ValueError) as error:
        raise CommandError(f"the sandbox did not answer properly: {error}") from None
    if answer.status_code != 200:
        raise CommandError((body.get("error") or {}).get("message", f"HTTP {answer.status_code}"))
    return body


CLOCK = Command("clock", "Show or move the one time of the sandbox and the payment service.",
                configure, run)
