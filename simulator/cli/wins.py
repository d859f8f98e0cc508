"""``stripe-sim wins add``: tell the payment service an auction ended, as the auction
timer does (``POST /payments/wins`` with the ``AUCTION_API_TOKEN`` secret).

Every outcome is one line: the recorded win on stdout (exit 0); the service's refusal or
an unreachable service on stderr (exit 1); a missing token on stderr (exit 2)."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

import requests

from simulator.cli.command import Command, CommandError
from simulator.common.clock import Clock
from simulator.service.domain.money import format_money

TOKEN_VARIABLE = "AUCTION_API_TOKEN"
DEFAULT_SERVICE_URL = "http://127.0.0.1:8000"
DEFAULT_SELLER = "sel_house"
TIMEOUT_SECONDS = 10.0


def configure(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    add = actions.add_parser("add", help="Record a won auction.",
                             description=f"Record a won auction (needs {TOKEN_VARIABLE}).")
    add.add_argument("--auction-id", required=True, help="the auction, also the win's id")
    add.add_argument("--lot", type=int, required=True)
    add.add_argument("--title", required=True)
    add.add_argument("--buyer", required=True, help="the winner's user id")
    add.add_argument("--amount", type=int, required=True,
                     help="in minor units: 64200 is $642.00")
    add.add_argument("--currency", required=True, help="usd, eur or gbp")
    add.add_argument("--seller", default=DEFAULT_SELLER, help=f"default {DEFAULT_SELLER}")
    add.add_argument("--ended-at", type=int, default=None,
                     help="unix seconds the auction ended (default: now)")
    add.add_argument("--service-url", default=DEFAULT_SERVICE_URL)


def run(args: argparse.Namespace) -> int:
    token = os.environ.get(TOKEN_VARIABLE)
    if not token:
        raise CommandError(f"set {TOKEN_VARIABLE} to the payment service's auction API token")
    base = args.service_url.rstrip("/")
    try:
        answer = requests.post(f"{base}/payments/wins", json=win_request(args),
                               headers={"Authorization": f"Bearer {token}"},
                               timeout=TIMEOUT_SECONDS)
    except requests.ConnectionError:
        return _failed(f"payment service not reachable at {base}")
    except requests.RequestException as error:
        return _failed(f"calling the payment service at {base} failed: {error}")
    body = _json(answer)
    if answer.status_code not in (200, 201) or "id" not in body:
        return _failed(f"refused ({answer.status_code}): {_error_message(answer, body)}")
    print(win_line(body))
    return 0


def win_request(args: argparse.Namespace) -> dict[str, Any]:
    ended_at = args.ended_at if args.ended_at is not None else Clock().timestamp()
    return {"auction_id": args.auction_id, "lot": args.lot, "title": args.title,
            "seller_id": args.seller, "buyer_id": args.buyer, "amount": args.amount,
            "currency": args.currency, "ended_at": ended_at}


def win_line(win: dict[str, Any]) -> str:
    verb = "recorded" if win.get("created") else "already recorded"
    return (f"{verb} win {win['id']}: lot {win['lot']} {win['title']!r}, "
            f"{format_money(win['amount'], win['currency'])} won by {win['buyer_id']}, "
            f"payment window closes at {win['window_closes_at']}")


def _json(answer: requests.Response) -> dict[str, Any]:
    try:
        body = answer.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _error_message(answer: requests.Response, body: dict[str, Any]) -> str:
    error = body.get("error")
    if isinstance(error, dict) and error.get("message"):
        return str(error["message"])
    return answer.reason or "no explanation"


def _failed(message: str) -> int:
    print(f"stripe-sim wins add: {' '.join(message.split())}", file=sys.stderr)
    return 1


WINS = Command("wins", "Report won auctions to the payment service, as the auction timer does.",
               configure, run)
