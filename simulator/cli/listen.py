"""``stripe-sim listen``: forward the sandbox's webhooks to a local URL, as
``stripe listen --forward-to`` does (https://docs.stripe.com/stripe-cli/overview).

It registers a temporary webhook endpoint pointing at the URL (so the sandbox itself
signs and delivers, with retries), prints the endpoint's signing secret, then follows
the endpoint's delivery attempts and prints them like the Stripe CLI. Ctrl-C deletes
the endpoint.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import os
import threading
from collections.abc import Callable
from typing import Any

import requests
import stripe

from simulator.cli.command import Command

DEFAULT_API_BASE = "http://127.0.0.1:12111"
DEFAULT_API_KEY = "sk_test_stripe_sim_listen"
HELP = "Forward the sandbox's webhooks to a local URL, like `stripe listen --forward-to`."


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--forward-to", required=True, help="the URL to deliver events to")
    parser.add_argument("--events", default="*",
                        help="comma-separated event types (default: all)")
    parser.add_argument("--api-base", default=DEFAULT_API_BASE, help="the sandbox's URL")
    parser.add_argument("--api-key", default=os.environ.get("STRIPE_API_KEY", DEFAULT_API_KEY))
    parser.add_argument("--poll-interval", type=float, default=0.2, help="seconds")


def run(args: argparse.Namespace) -> int:
    client = stripe.StripeClient(args.api_key, base_addresses={"api": args.api_base})
    events = [e.strip() for e in args.events.split(",") if e.strip()] or ["*"]
    endpoint = client.v1.webhook_endpoints.create(params={
        "url": args.forward_to,
        "enabled_events": events,
        "description": "stripe-sim listen",
    })
    print(f"Ready! Your webhook signing secret is {endpoint.secret} (^C to quit)", flush=True)
    try:
        follow_deliveries(args.api_base, endpoint.id, args.poll_interval, _print)
    except KeyboardInterrupt:
        pass
    finally:
        client.v1.webhook_endpoints.delete(endpoint.id)
    return 0


def follow_deliveries(
    api_base: str, endpoint_id: str, interval: float, emit: Callable[[str], None]
) -> None:
    """Poll the endpoint's deliveries forever, emitting each new attempt once."""
    seen: set[tuple[str, int]] = set()
    session = requests.Session()
    url = f"{api_base.rstrip('/')}/_sandbox/webhooks/deliveries"
    pause = threading.Event()
    while True:
        deliveries = session.get(url, params={"endpoint": endpoint_id}, timeout=10).json()
        for line in new_attempt_lines(deliveries["data"], seen):
            emit(line)
        pause.wait(interval)


def new_attempt_lines(deliveries: list[dict[str, Any]], seen: set[tuple[str, int]]) -> list[str]:
    """Two lines per attempt not in ``seen`` (which this updates), oldest first."""
    fresh = [
        (attempt, delivery)
        for delivery in deliveries
        for attempt in delivery["attempts"]
        if (delivery["id"], attempt["attempt"]) not in seen
    ]
    fresh.sort(key=lambda pair: pair[0]["attempted_at"])
    lines: list[str] = []
    for attempt, delivery in fresh:
        seen.add((delivery["id"], attempt["attempt"]))
        lines += format_attempt(attempt, delivery)
    return lines


def format_attempt(attempt: dict[str, Any], delivery: dict[str, Any]) -> list[str]:
    """The Stripe CLI's ``-->`` (event sent) and ``<--`` (answer) lines."""
    when = _dt.datetime.fromtimestamp(attempt["attempted_at"]).strftime("%Y-%m-%d %H:%M:%S")
    event = delivery["event"]
    sent = f"{when}   --> {delivery.get('event_type') or 'event'} [{event}]"
    if attempt["status_code"] is None:
        answer = f"{when}  <--  [ERROR] POST {attempt['url']} [{event}] {attempt['error']}"
    else:
        answer = f"{when}  <--  [{attempt['status_code']}] POST {attempt['url']} [{event}]"
    return [sent, answer]


def _print(line: str) -> None:
    print(line, flush=True)


LISTEN = Command("listen", HELP, configure, run)
