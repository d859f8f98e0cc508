"""A sandbox killed mid-delivery loses nothing: after a restart on the same database
the delivery is claimed again once its lease runs out (at least once, never lost)."""

from __future__ import annotations

from pathlib import Path

import pytest
from webhook_sandbox import sandbox_at

from harness.servers import RunningServer, start_sandbox
from simulator.sandbox.webhooks.receiver import WebhookReceiver

pytestmark = pytest.mark.slow


def kill_sandbox(server: RunningServer) -> None:
    """SIGKILL gunicorn's master and its workers, as a crashed machine would."""
    server.kill()


def test_a_delivery_in_flight_when_the_sandbox_dies_is_delivered_after_restart(
    tmp_path: Path,
) -> None:
    db = str(tmp_path / "crash.sqlite3")
    first = sandbox_at(start_sandbox(tmp_path, db_path=db, workers=2, threads=4))
    first.profile("fast", timeout_seconds=3)  # leases last 3 s + 2 s of margin
    with WebhookReceiver(delay_seconds=2) as receiver:
        endpoint = first.sdk.v1.webhook_endpoints.create(
            params={"url": receiver.url, "enabled_events": ["customer.created"]}
        )
        receiver.secrets = [str(endpoint.secret)]
        event = first.event_for(first.create_customer())
        assert receiver.wait_until(lambda r: r.arrivals == 1, timeout=10)
        kill_sandbox(first.server)  # while the receiver is still answering

        second = sandbox_at(start_sandbox(tmp_path, db_path=db, workers=2, threads=4))
        try:
            second.drain()  # waits for the dead process's lease, then delivers
            [delivery] = second.deliveries(event=event)
            assert delivery["status"] == "delivered"
            # The attempt cut short by the crash was never recorded; the retry was.
            assert [a["status_code"] for a in delivery["attempts"]] == [200]
            assert second.pending_webhooks(event) == 0
        finally:
            second.server.stop()

    assert receiver.arrivals == 2
    assert all(r.event_id == event for r in receiver.verified())
