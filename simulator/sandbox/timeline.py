"""One time for the sandbox and the servers that follow its clock.

A payment service running against the sandbox registers as a *clock follower*
(``POST /_sandbox/clock/followers``). Moving the sandbox's clock then moves every
follower's clock with it, and the jump is made in steps, so that due work on both sides
runs **in time order**: each step goes to the earliest moment anything falls due (a
sandbox job, a webhook retry, a follower's job), up to the target; at each step the
followers take the new time and run their due jobs, then the sandbox runs its own and
delivers its webhooks (synchronously: background delivery waits while a jump runs). A
24-hour jump therefore sends a 1 h, 6 h and 18 h reminder at their times, then closes
the payment window; nothing is skipped or run out of order.

A follower is any server that answers ``POST <url>/_test/clock/sync`` with
``{"offset_seconds": …}`` by adopting that offset, running what is due, and answering
``{"next_due_at": …}`` (its next timed job, or null). A follower that registered with a
``token`` gets it back in ``X-Test-Token`` on every sync (its sync route is not open to
anyone else); the tokens are never shown by ``GET /_sandbox/clock``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

import requests

from simulator.sandbox.runtime import Runtime

log = logging.getLogger("simulator.sandbox.timeline")

FOLLOWERS_KEY = "clock_followers"
FOLLOWER_TOKENS_KEY = "clock_follower_tokens"
TOKEN_HEADER = "X-Test-Token"
SYNC_PATH = "/_test/clock/sync"
MAX_STEPS = 2_000  # a jump over more due moments than this finishes in one last step
FOLLOWER_TIMEOUT_SECONDS = 60.0
HOLD_SECONDS = 600.0  # background delivery resumes by itself if a jump dies half-way


class FollowerUnreachable(Exception):
    pass


@dataclass
class Jump:
    """What one advance did: its steps, the jobs run and webhooks delivered, and the
    followers that could not be told (they were skipped, and said here)."""

    steps: int = 0
    jobs_run: int = 0
    webhooks_delivered: int = 0
    unreachable: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, object]:
        return {"steps": self.steps, "jobs_run": self.jobs_run,
                "webhooks_delivered": self.webhooks_delivered,
                "followers_unreachable": self.unreachable}


def followers(rt: Runtime) -> list[str]:
    return list(json.loads(rt.store.get_meta(FOLLOWERS_KEY, "[]") or "[]"))


def follower_tokens(rt: Runtime) -> dict[str, str]:
    return dict(json.loads(rt.store.get_meta(FOLLOWER_TOKENS_KEY, "{}") or "{}"))


def add_follower(rt: Runtime, url: str, token: str | None = None) -> list[str]:
    url = url.rstrip("/")
    with rt.store.transaction():
        urls = [u for u in followers(rt) if u != url] + [url]
        rt.store.set_meta(FOLLOWERS_KEY, json.dumps(urls))
        tokens = {u: t for u, t in follower_tokens(rt).items() if u != url}
        if token:
            tokens[url] = token
        rt.store.set_meta(FOLLOWER_TOKENS_KEY, json.dumps(tokens))
    return urls


def remove_follower(rt: Runtime, url: str) -> list[str]:
    with rt.store.transaction():
        urls = [u for u in followers(rt) if u != url.rstrip("/")]
        rt.store.set_meta(FOLLOWERS_KEY, json.dumps(urls))
        tokens = {u: t for u, t in follower_tokens(rt).items() if u in urls}
        rt.store.set_meta(FOLLOWER_TOKENS_KEY, json.dumps(tokens))
    return urls


def next_due(rt: Runtime) -> float | None:
    """The sandbox's next timed work: a job or a webhook (re)delivery."""
    row = rt.store.conn.execute(
        "SELECT MIN(due) FROM (SELECT MIN(due_at) AS due FROM jobs UNION ALL"
        " SELECT MIN(next_attempt_at) FROM webhook_deliveries WHERE status = 'pending')"
    ).fetchone()
    return float(row[0]) if row and row[0] is not None else None


def advance(rt: Runtime, seconds: float, run_here: Callable[[], tuple[int, int]]) -> Jump:
    """Move the one time ``seconds`` forward in steps (see the module's docstring).
    ``run_here`` runs the sandbox's due jobs and delivers its due webhooks, returning
    how many of each."""
    jump = Jump()
    target = rt.clock.now() + seconds
    target_offset = rt.clock.offset + seconds  # exact, however long the steps take
    urls = followers(rt)
    follower_due: dict[str, float | None] = {url: None for url in urls}
    rt.hold_background_delivery(HOLD_SECONDS)
    try:
        _run_step(rt, urls, follower_due, jump, run_here)  # first, what is due already
        while True:
            now = rt.clock.now()
            dues = [d for d in (next_due(rt), *follower_due.values())
                    if d is not None and d > now]
            step_to = min([*dues, target]) if jump.steps < MAX_STEPS else target
            last = step_to >= target
            rt.advance_clock(max(0.0, target_offset - rt.clock.offset if last else step_to - now))
            jump.steps += 1
            _run_step(rt, urls, follower_due, jump, run_here)
            if last:
                return jump
    finally:
        rt.hold_background_delivery(0)


def _run_step(rt: Runtime, urls: list[str], follower_due: dict[str, float | None],
              jump: Jump, run_here: Callable[[], tuple[int, int]]) -> None:
    """Followers first take the new time (a delivery signed now must not reach a
    receiver still in the past), then each side runs what is due, twice over: work on
    one side (an expiry, a webhook) can make work due on the other at this moment."""
    for _ in range(2):
        _sync_all(rt, urls, follower_due, jump)
        jobs, delivered = run_here()
        jump.jobs_run += jobs
        jump.webhooks_delivered += delivered


def _sync_all(rt: Runtime, urls: list[str], follower_due: dict[str, float | None],
              jump: Jump) -> None:
    offset = rt.clock.offset
    tokens = follower_tokens(rt)
    for url in urls:
        if url in jump.unreachable:
            continue
        try:
            follower_due[url] = sync_follower(url, offset, tokens.get(url),
                                              ca_bundle=rt.config.webhook_ca_bundle)
        except FollowerUnreachable as error:
            log.warning("clock follower %s not told of the new time: %s", url, error)
            jump.unreachable.append(url)
            follower_due[url] = None


def sync_follower(url: str, offset: float, token: str | None = None, *,
                  ca_bundle: str | None = None) -> float | None:
    """Give the follower the sandbox's offset; its next due moment. A follower served
    over https is verified as webhook endpoints are (against ``ca_bundle`` if given)."""
    headers = {TOKEN_HEADER: token} if token else {}
    try:
        answer = requests.post(f"{url}{SYNC_PATH}", json={"offset_seconds": offset},
                               headers=headers, timeout=FOLLOWER_TIMEOUT_SECONDS,
                               verify=ca_bundle or True)
        answer.raise_for_status()
        due = answer.json().get("next_due_at")
    except (requests.RequestException, ValueError) as error:
        raise FollowerUnreachable(str(error)) from None
    return float(due) if due is not None else None
