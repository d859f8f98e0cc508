"""Stripe's deliveries as they really arrive: duplicated, out of order, replayed, stale.
Whatever happens, one paid win has exactly one transaction and one order."""

from __future__ import annotations

from integration_support import Marketplace, eventually


def endpoint_id(market: Marketplace) -> str:
    endpoint = market.service.runtime.webhook_endpoint_id
    assert endpoint is not None
    return endpoint


def test_the_service_registered_its_own_endpoint_at_start_up(market: Marketplace) -> None:
    endpoint = market.sandbox.sdk.v1.webhook_endpoints.retrieve(endpoint_id(market))
    assert endpoint.url == f"{market.url}/payments/webhooks/stripe"
    assert "checkout.session.completed" in endpoint.enabled_events
    assert "payment_intent.payment_failed" in endpoint.enabled_events


def test_duplicated_and_reordered_deliveries_make_exactly_one_order(market: Marketplace) -> None:
    market.sandbox.chaos(endpoint_id(market), duplicate=2, reorder="true")
    win = market.win(51, 64_200)
    started = market.start(win)
    market.pay(started["payment_session_id"])
    assert eventually(lambda: market.status(started["payment_session_id"])["status"]
                      == "succeeded", market.sandbox.drain)

    assert len(market.orders(win)) == 1
    assert len(market.transactions(win)) == 1
    deliveries = market.sandbox.deliveries(endpoint=endpoint_id(market))
    assert len(deliveries) >= 6  # every event three times
    assert {d["status"] for d in deliveries} == {"delivered"}  # duplicates answered 200
    processed = market.repo.list_webhook_events("processed")
    assert len({e.event_id for e in processed}) == len(processed)  # one inbox row per event


def test_a_resent_event_is_a_duplicate(market: Marketplace) -> None:
    win = market.win(52, 9_000)
    market.pay(market.start(win)["payment_session_id"])
    completed = next(e for e in market.sandbox.events_for("checkout.session.completed")
                     if e.data.object.metadata["win_id"] == win.id)
    market.sandbox.resend(completed.id)
    market.sandbox.drain()
    inbox = market.repo.get_webhook_event(completed.id)
    assert inbox is not None and (inbox.status, inbox.attempts) == ("processed", 1)
    assert len(market.orders(win)) == 1 and len(market.transactions(win)) == 1


def test_a_stale_signature_is_refused_and_recorded(market: Marketplace) -> None:
    market.sandbox.chaos(endpoint_id(market), stale_timestamp="true")
    win = market.win(53, 9_000)
    market.pay(market.start(win)["payment_session_id"])
    events = market.repo.list_security_events()
    assert events and {e["kind"] for e in events} == {"webhook_signature_timestamp"}
    assert market.repo.list_webhook_events() == []  # nothing stored before verification
    assert market.orders(win) == []

    market.sandbox.chaos(endpoint_id(market), clear="true")
    market.advance(3600)  # Stripe retries the failed deliveries; now they verify
    assert eventually(lambda: len(market.orders(win)) == 1, market.sandbox.drain)


def test_a_failed_handler_is_retried_by_stripe_until_it_succeeds(market: Marketplace) -> None:
    """The service answers 500 while its handler fails; Stripe delivers again later."""
    rt = market.service.runtime
    original = rt.service.handle_event
    failures = {"left": 2}

    def flaky(event: dict[str, object]) -> None:
        if failures["left"] > 0:
            failures["left"] -= 1
            raise RuntimeError("database is locked")
        original(event)

    rt.service.handle_event = flaky  # type: ignore[method-assign]
    win = market.win(54, 9_000)
    started = market.start(win)
    market.pay(started["payment_session_id"])
    assert market.repo.list_webhook_events("failed")
    failed = market.repo.list_webhook_events("failed")[0]
    assert failed.error == "RuntimeError: database is locked"

    market.advance(3600)  # past Stripe's first retry delays
    assert eventually(lambda: market.status(started["payment_session_id"])["status"]
                      == "succeeded", market.sandbox.drain)
    assert market.repo.list_webhook_events("failed") == []
    assert len(market.orders(win)) == 1
