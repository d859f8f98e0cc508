"""``stripe-sim listen``: forward the sandbox's webhooks to a local URL, as
``stripe listen --forward-to`` does (https://docs.stripe.com/stripe-cli/overview).

It registers a temporary webhook endpoint pointing at the URL (so the sandbox itself
signs and delivers, with retries), prints the endpoint's signing secret, then follows
the endpoint's delivery attempts and prints them like the Stripe CLI. Ctrl-C or SIGTERM
deletes the endpoint. As with the Stripe CLI, the secret stays the same from one run to
the next (kept in a git-ignored file, ``.sandbox/listen.json``), so a receiver
configured once keeps verifying.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests
import stripe

from simulator.cli.command import Command, CommandError

DEFAULT_API_BASE = "http://127.0.0.1:12111"
DEFAULT_API_KEY = "sk_test_stripe_sim_listen"
DEFAULT_STATE_FILE = ".sandbox/listen.json"
HELP = "Forward the sandbox's webhooks to a local URL, like `stripe listen --forward-to`."


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--forward-to", required=True, help="the URL to deliver events to")
    parser.add_argument("--events", default="*",
                        help="comma-separated event types (default: all)")
    parser.add_argument("--api-base", default=DEFAULT_API_BASE, help="the sandbox's URL")
    parser.add_argument("--api-key", default=os.environ.get("STRIPE_API_KEY", DEFAULT_API_KEY))
    parser.add_argument("--poll-interval", type=float, default=0.2, help="seconds")
    parser.add_argument("--state", default=DEFAULT_STATE_FILE,
                        help="where the signing secret is kept between runs")


def run(args: argparse.Namespace) -> int:
    target = urlsplit(args.forward_to)
    if target.scheme not in ("http", "https") or not target.hostname:
        raise CommandError(f"--forward-to must be an http(s) URL, not {args.forward_to!r}")
    with stopped_by_sigterm():
        return _listen(args)


def _listen(args: argparse.Namespace) -> int:
    client = stripe.StripeClient(args.api_key, base_addresses={"api": args.api_base})
    events = [e.strip() for e in args.events.split(",") if e.strip()] or ["*"]
    try:
        endpoint = client.v1.webhook_endpoints.create(params={
            "url": args.forward_to, "enabled_events": events,
            "description": "stripe-sim listen"})
    except stripe.APIConnectionError:
        raise CommandError(f"no sandbox answers at {args.api_base}: start it with"
                           " `stripe-sim up` or `stripe-sim sandbox`") from None
    except stripe.StripeError as error:
        raise CommandError(error.user_message or str(error)) from None
    try:
        secret = keep_secret(args.api_base, endpoint.id, str(endpoint.secret), Path(args.state))
        print(f"Ready! Your webhook signing secret is {secret} (^C to quit)", flush=True)
        follow_deliveries(args.api_base, endpoint.id, args.poll_interval, _print)
    except KeyboardInterrupt:
        pass
    except requests.RequestException:
        raise CommandError(f"the sandbox at {args.api_base} stopped answering") from None
    finally:
        _delete_quietly(client, endpoint.id)
    return 0


def keep_secret(api_base: str, endpoint_id: str, new_secret: str, state: Path) -> str:
    """The secret of earlier runs against this sandbox, given to the new endpoint; on a
    first run, the new endpoint's own, remembered (owner-only) for the next."""
    kept: dict[str, str] = json.loads(state.read_text()) if state.is_file() else {}
    secret = kept.get(api_base)
    if secret is None:
        state.parent.mkdir(parents=True, exist_ok=True)
        state.write_text(json.dumps({**kept, api_base: new_secret}, indent=2))
        state.chmod(0o600)
        return new_secret
    requests.post(f"{api_base.rstrip('/')}/_sandbox/webhooks/endpoints/{endpoint_id}/secret",
                  data={"secret": secret}, timeout=10).raise_for_status()
    return secret


@contextmanager
def stopped_by_sigterm() -> Iterator[None]:
    """SIGTERM (a process manager, ``kill``) ends the run as Ctrl-C does: cleaned up."""
    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _delete_quietly(client: stripe.StripeClient, endpoint_id: str) -> None:
    try:
        client.v1.webhook_endpoints.delete(endpoint_id)
    except stripe.StripeError as error:
        print(f"could not delete webhook endpoint {endpoint_id}: {error}", flush=True)


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
