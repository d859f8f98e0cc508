"""The webhook inbox: every verified delivery is stored, then processed exactly once.

Stripe delivers at least once and in no particular order
(https://docs.stripe.com/webhooks#handle-duplicate-events), and a process can die
between storing an event and finishing its work. So:

- Dedupe is on *processed*, not on *received*: a delivery is acknowledged without
  effect only once an earlier delivery's work has committed.
- A delivery claims its event for this process (``host:pid``) with a lease on the wall
  clock. A second delivery while that process lives and the lease runs is answered
  ``in_progress``: the payload is stored, and its owner (or the recovery job) finishes it.
- An event whose worker died, whose lease ran out, or whose handler failed is processed
  again: by Stripe's next delivery, by an admin's replay, or by the recovery job. The
  handlers re-read state and exit early when the work is done, so a second run after a
  commit the first one could not acknowledge changes nothing.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any, Literal

from simulator.common.clock import Clock, system_time
from simulator.common.processes import process_alive, this_process
from simulator.service.domain.inbox import InboxClaim, InboxEvent
from simulator.service.domain.stores import InboxStore
from simulator.service.payments.context import log

Outcome = Literal["processed", "duplicate", "in_progress"]
EventHandler = Callable[[Mapping[str, Any]], None]
CrashPoint = Callable[[str], None]


class EventFailed(Exception):
    """The handler raised: the inbox row is ``failed`` and Stripe should deliver again."""


class EventInbox:
    def __init__(self, repo: InboxStore, clock: Clock, handle: EventHandler, *,
                 lease_seconds: float = 60.0, crash_point: CrashPoint | None = None) -> None:
        self.repo = repo
        self.clock = clock
        self.handle = handle
        self.lease_seconds = lease_seconds
        self.crash_point = crash_point or (lambda _name: None)

    def receive(self, event: Mapping[str, Any], payload: str) -> Outcome:
        """Store and process one verified delivery. Raises ``EventFailed`` when the
        handler failed (the delivery should be answered 5xx)."""
        claimed = self.repo.claim_webhook_event(
            str(event["id"]), str(event["type"]), payload, self.clock.timestamp(),
            self._claim())
        if claimed == "processed":
            return "duplicate"
        if claimed == "in_progress":
            return "in_progress"
        self._process(event)
        return "processed"

    def replay(self, entry: InboxEvent) -> Outcome:
        """Process a stored event again from its payload (an admin's replay)."""
        return self.receive(json.loads(entry.payload), entry.payload)

    def recover(self, limit: int = 100) -> int:
        """Finish events whose processing was cut off; the number finished."""
        finished = 0
        for _ in range(limit):
            entry = self.repo.claim_unfinished_webhook_event(self.clock.timestamp(),
                                                             self._claim())
            if entry is None:
                break
            log.warning("recovering webhook %s (%s), cut off before it finished",
                        entry.event_id, entry.type)
            try:
                self._process(json.loads(entry.payload))
            except EventFailed:
                continue  # recorded as failed; Stripe's next delivery tries again
            finished += 1
        return finished

    def _claim(self) -> InboxClaim:
        now = system_time()
        return InboxClaim(this_process(), now + self.lease_seconds, now, process_alive)

    def _process(self, event: Mapping[str, Any]) -> None:
        event_id = str(event["id"])
        self.crash_point("webhook_claimed")
        try:
            self.handle(event)
        except Exception as error:
            log.exception("webhook %s (%s) failed", event_id, event.get("type"))
            with self.repo.transaction():
                self.repo.mark_webhook_failed(event_id, f"{type(error).__name__}: {error}",
                                              self.clock.timestamp())
            raise EventFailed(str(error)) from error
        self.crash_point("webhook_handled")
        with self.repo.transaction():
            self.repo.mark_webhook_processed(event_id, self.clock.timestamp())
