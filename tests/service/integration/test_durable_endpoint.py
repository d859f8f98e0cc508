"""The service's webhook endpoint outlives the process: a restart reuses it (deliveries
queued meanwhile still arrive and verify), a rolled secret is followed, a lost database
adopts the endpoint an earlier run made, and reconciliation finds what no webhook said."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import requests
from integration_support import ALICE, Marketplace, RecordingMailer, SandboxControl, control_headers

from harness.service import service_config, start_service_in_process
from simulator.common.clock import Clock
from simulator.service.adapters.stripe_gateway import StripeGateway
from simulator.service.adapters.webhook_endpoint import stored_endpoint
from simulator.service.payments.events import EVENT_HANDLERS


def endpoints_for(sandbox: SandboxControl, url: str) -> list[str]:
    return [e.id for e in sandbox.sdk.v1.webhook_endpoints.list(
        params={"limit": 100}).auto_paging_iter() if e.url.startswith(url)]


def restart(market: Marketplace) -> Marketplace:
    """Stop serving (the endpoint stays at the sandbox) and serve the same database again
    on the same URL, as a restarted process would."""
    old = market.service
    old.server.shutdown()
    old.thread.join(timeout=10)
    old.server.server_close()
    old.runtime.repo.close()
    port = int(old.url.rsplit(":", 1)[1])
    gateway = StripeGateway(old.config, market.clock, sleep=market.sleeps.append)
    service = start_service_in_process(old.config, clock=market.clock, gateway=gateway,
                                       mailer=market.mailer, port=port)
    return dataclasses.replace(market, service=service)


def test_the_endpoint_at_the_sandbox_subscribes_to_exactly_the_handled_events(
        market: Marketplace) -> None:
    endpoint = market.sandbox.sdk.v1.webhook_endpoints.retrieve(
        str(market.service.runtime.webhook_endpoint_id))
    assert sorted(endpoint.enabled_events) == sorted(EVENT_HANDLERS)
    assert "checkout.session.completed" in endpoint.enabled_events


def test_a_restart_reuses_the_endpoint_and_gets_what_was_queued_meanwhile(
        market: Marketplace) -> None:
    endpoint = market.service.runtime.webhook_endpoint_id
    win = market.win(61, 9_000)
    started = market.start(win)
    market.service.server.shutdown()  # the service is down while the buyer pays
    checkout = market.session(started["payment_session_id"]).checkout_session_id
    assert checkout is not None
    market.sandbox.complete(checkout)
    market.sandbox.drain()  # the delivery fails: nobody listens

    market = restart(market)
    assert market.service.runtime.webhook_endpoint_id == endpoint
    assert endpoints_for(market.sandbox, market.url) == [endpoint]
    waiting = market.sandbox.deliveries(endpoint=str(endpoint), status="pending")
    assert waiting, "the delivery made while the service was down waits for a retry"
    for delivery in waiting:
        market.sandbox.resend(delivery["event"])  # Stripe's retry, without the wait
    market.sandbox.drain()
    assert len(market.orders(win)) == 1 and len(market.transactions(win)) == 1
    market.service.stop()


def test_a_rolled_secret_is_followed(market: Marketplace) -> None:
    endpoint = market.service.runtime.webhook_endpoint_id
    rolled = market.sandbox.control("POST", f"/webhooks/endpoints/{endpoint}/roll_secret",
                                    expires_in=0)  # the old secret stops at once
    assert rolled.status_code == 200
    win = market.win(62, 9_000)
    market.pay(market.start(win)["payment_session_id"])
    assert len(market.orders(win)) == 1
    assert market.repo.list_security_events() == []
    stored = stored_endpoint(market.repo)
    assert stored is not None and stored.secret == rolled.json()["secret"]


def test_a_service_that_lost_its_database_adopts_its_endpoint(
        market: Marketplace, tmp_path: Path) -> None:
    endpoint = market.service.runtime.webhook_endpoint_id
    url = market.url
    market.service.server.shutdown()
    market.service.server.server_close()
    fresh = dataclasses.replace(service_config(tmp_path / "fresh", market.sandbox.url),
                                public_url=url)
    clock = Clock()
    clock.advance(market.sandbox.offset())
    service = start_service_in_process(fresh, clock=clock, mailer=RecordingMailer(),
                                       port=int(url.rsplit(":", 1)[1]))
    try:
        assert service.runtime.webhook_endpoint_id == endpoint
        assert endpoints_for(market.sandbox, url) == [endpoint]
    finally:
        service.stop()


def test_reconciliation_records_a_payment_no_webhook_announced(market: Marketplace) -> None:
    endpoint = str(market.service.runtime.webhook_endpoint_id)
    market.sandbox.sdk.v1.webhook_endpoints.update(endpoint, params={"disabled": True})
    win = market.win(63, 9_000)
    started = market.start(win)
    market.pay(started["payment_session_id"])
    assert market.orders(win) == []  # no webhook came

    market.advance(market.service.config.reconcile_interval_seconds)
    assert len(market.orders(win)) == 1 and len(market.transactions(win)) == 1
    assert market.status(started["payment_session_id"])["status"] == "succeeded"
    market.sandbox.sdk.v1.webhook_endpoints.update(endpoint, params={"disabled": False})


def test_the_test_fault_route_refuses_an_unknown_crash_point(market: Marketplace) -> None:
    answer = requests.post(f"{market.url}/_test/faults", json={"crash_at": "nowhere"},
                           timeout=10, headers=control_headers(market.service.config.db_path))
    assert answer.status_code == 400
    assert "unknown crash point" in answer.json()["error"]["message"]
    assert market.status(market.start(market.win(64, 9_000, buyer=ALICE))[
        "payment_session_id"])["status"] == "open"
