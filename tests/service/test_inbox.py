"""The inbox processes each event exactly once: duplicates of a processed event are
acknowledged, a failed one is processed again, and one cut off by a dead worker is
finished by the recovery job."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from simulator.common.clock import Clock
from simulator.common.processes import this_process
from simulator.service.adapters.repositories import Repository
from simulator.service.domain.inbox import InboxClaim
from simulator.service.payments.inbox import EventFailed, EventInbox

EVENT = {"id": "evt_1", "type": "checkout.session.completed", "data": {"object": {}}}
PAYLOAD = json.dumps(EVENT)


class CountingHandler:
    def __init__(self, failures: int = 0) -> None:
        self.handled: list[str] = []
        self.failures = failures

    def __call__(self, event: Mapping[str, Any]) -> None:
        if self.failures:
            self.failures -= 1
            raise RuntimeError("Stripe timed out")
        self.handled.append(str(event["id"]))


@pytest.fixture
def repo(tmp_path: Path) -> Repository:
    return Repository(tmp_path / "service.sqlite3")


def test_a_processed_event_is_acknowledged_without_effect(repo: Repository) -> None:
    handler = CountingHandler()
    inbox = EventInbox(repo, Clock(), handler)
    assert inbox.receive(EVENT, PAYLOAD) == "processed"
    assert inbox.receive(EVENT, PAYLOAD) == "duplicate"
    assert handler.handled == ["evt_1"]


def test_a_failed_event_is_processed_when_stripe_delivers_again(repo: Repository) -> None:
    handler = CountingHandler(failures=1)
    inbox = EventInbox(repo, Clock(), handler)
    with pytest.raises(EventFailed):
        inbox.receive(EVENT, PAYLOAD)
    assert repo.get_webhook_event("evt_1").status == "failed"  # type: ignore[union-attr]
    assert inbox.receive(EVENT, PAYLOAD) == "processed"
    assert handler.handled == ["evt_1"]


def test_an_event_held_by_a_live_worker_is_in_progress(repo: Repository) -> None:
    clock = Clock()
    repo.claim_webhook_event("evt_1", "checkout.session.completed", PAYLOAD, 0,
                             InboxClaim(this_process(), 1e12, 0.0, lambda _owner: True))
    handler = CountingHandler()
    assert EventInbox(repo, clock, handler).receive(EVENT, PAYLOAD) == "in_progress"
    assert handler.handled == []


def test_an_event_cut_off_by_a_dead_worker_is_recovered_once(repo: Repository) -> None:
    dead = InboxClaim("localhost-that-died:999999", 1e12, 0.0, lambda _owner: False)
    repo.claim_webhook_event("evt_1", "checkout.session.completed", PAYLOAD, 0, dead)
    repo.release_webhook_claims()  # what a restart does, holding the instance lock
    handler = CountingHandler()
    inbox = EventInbox(repo, Clock(), handler)
    assert inbox.recover() == 1
    assert inbox.recover() == 0
    assert inbox.receive(EVENT, PAYLOAD) == "duplicate"  # Stripe's retry, afterwards
    assert handler.handled == ["evt_1"]
    assert repo.get_webhook_event("evt_1").status == "processed"  # type: ignore[union-attr]
