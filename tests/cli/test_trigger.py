"""``stripe-sim trigger`` makes the sandbox emit each event it knows."""

from __future__ import annotations

import argparse

import pytest
import stripe

from harness.servers import RunningServer
from simulator.cli import trigger


@pytest.mark.parametrize("event_type", sorted(trigger.RECIPES))
def test_trigger_emits_the_event(event_type: str, sandbox_server: RunningServer,
                                 client: stripe.StripeClient,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    before = client.v1.events.list(params={"type": event_type, "limit": 1}).data
    args = argparse.Namespace(event=event_type, api_base=sandbox_server.url,
                              api_key="sk_test_trigger")
    assert trigger.run(args) == 0
    after = client.v1.events.list(params={"type": event_type, "limit": 1}).data
    assert after and (not before or after[0].id != before[0].id)
    assert "Trigger succeeded!" in capsys.readouterr().out


def test_unknown_event_lists_the_supported_ones(capsys: pytest.CaptureFixture[str]) -> None:
    args = argparse.Namespace(event="nope.nothing", api_base="http://127.0.0.1:9",
                              api_key="sk_test_x")
    assert trigger.run(args) == 2
    assert "payment_intent.succeeded" in capsys.readouterr().out
