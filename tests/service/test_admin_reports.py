"""The admin's figures over time, read from what the service recorded: success rate,
declines by reason, recovery rate, revenue, webhook latency, a payment's timeline and
the audit log a page at a time."""

from __future__ import annotations

import json

from payments_support import World

from simulator.service.adapters.admin_reports import AdminReports, TimeRange
from simulator.service.domain.inbox import InboxClaim

HOUR = 3600


def _declined_then_paid(world: World) -> str:
    """A buyer declined once, then paid on the same Checkout page: recovered."""
    checkout_id = world.start()
    world.deliver(world.stripe.decline(checkout_id, "insufficient_funds"))
    world.advance(60)
    world.deliver(*world.stripe.pay(checkout_id))
    return checkout_id


def _declined_for_good(world: World, code: str = "expired_card") -> None:
    win = world.add_win(amount=10_000)
    started = world.service.start_checkout(world.buyer.id, win.id)
    assert started.payment_session.checkout_session_id
    world.deliver(world.stripe.decline(started.payment_session.checkout_session_id, code))


def _span(world: World, granularity: str = "hour", count: int = 3) -> TimeRange:
    return TimeRange(granularity, count, world.clock.timestamp())  # type: ignore[arg-type]


def test_success_rate_counts_each_decline_and_each_payment(world: World) -> None:
    _declined_then_paid(world)
    _declined_for_good(world)

    series = AdminReports(world.repo).success_rate(_span(world))

    *earlier, now = series.points
    assert [point.value for point in earlier] == [None, None]  # no data is not 0%
    assert now.value is not None and round(now.value) == 33
    assert now.detail == "1 of 3"


def test_declines_are_grouped_by_their_reason(world: World) -> None:
    _declined_then_paid(world)
    _declined_for_good(world, "expired_card")
    _declined_for_good(world, "expired_card")

    by_reason = AdminReports(world.repo).failures_by_reason(_span(world))

    assert list(by_reason) == ["expired_card", "insufficient_funds"]
    assert [point.value for point in by_reason["expired_card"].points] == [0, 0, 2]


def test_recovery_rate_is_the_share_of_declined_lots_paid_since(world: World) -> None:
    _declined_then_paid(world)
    _declined_for_good(world)
    reports = AdminReports(world.repo)

    assert reports.recovery_overall() == (1, 2)
    assert reports.recovery_rate(_span(world)).points[-1].value == 50.0


def test_no_declines_means_no_recovery_figure(world: World) -> None:
    world.deliver(*world.stripe.pay(world.start()))
    reports = AdminReports(world.repo)

    assert reports.recovery_overall() == (0, 0)
    assert all(point.value is None for point in reports.recovery_rate(_span(world)).points)


def test_revenue_is_what_succeeded_less_refunds_per_bucket(world: World) -> None:
    events = world.stripe.pay(world.start())
    world.deliver(*events)
    world.advance(2 * HOUR)
    world.deliver(world.stripe.refund(events[1]["data"]["object"]["id"], 4_200))

    currency, series = AdminReports(world.repo).revenue(_span(world))

    assert currency == "usd"
    assert [point.value for point in series.points] == [60_000, None, None]


def test_webhook_latency_is_from_arrival_to_processed(world: World) -> None:
    now = world.clock.timestamp()
    claim = InboxClaim("host:1", 0.0, 0.0, lambda _owner: False)
    for event_id, took in (("evt_a", 2), ("evt_b", 6)):
        world.repo.claim_webhook_event(event_id, "checkout.session.completed",
                                       json.dumps({"id": event_id}), now - took, claim)
        with world.repo.transaction():
            world.repo.mark_webhook_processed(event_id, now)

    point = AdminReports(world.repo).webhook_latency(_span(world)).points[-1]

    assert point.value == 4.0
    assert point.detail == "2 events, slowest 6 s"


def test_buckets_are_aligned_to_the_hour_and_the_day() -> None:
    span = TimeRange("day", 2, 86_400 * 10 + 5_000)
    assert span.starts == [86_400 * 9, 86_400 * 10]
    assert span.end == 86_400 * 11
    assert TimeRange("hour", 1, 7_300).starts == [7_200]


def test_a_payments_timeline_tells_its_story_in_order(world: World) -> None:
    checkout_id = _declined_then_paid(world)

    timeline = AdminReports(world.repo).payment_timeline(world.win.id)

    titles = [entry.title for entry in timeline]
    assert titles[0] == "Checkout created (attempt 1)"
    assert "Audit: payment_session.failed" in titles
    assert titles.index("Audit: payment_session.failed") < titles.index(
        "Audit: payment_session.succeeded")
    assert "Payment succeeded" in titles
    assert any(title.startswith("Email: ") for title in titles)
    assert [entry.at for entry in timeline] == sorted(entry.at for entry in timeline)
    assert timeline[0].detail == checkout_id


def test_a_lot_with_no_payment_has_an_empty_timeline(world: World) -> None:
    assert AdminReports(world.repo).payment_timeline("win_nobody") == []


def test_the_audit_log_pages_and_filters_by_order(world: World) -> None:
    _declined_then_paid(world)
    _declined_for_good(world)
    reports = AdminReports(world.repo)
    order = world.repo.order_for_win(world.win.id)
    assert order is not None

    first, total = reports.audit_page(1, 2)
    second, _ = reports.audit_page(2, 2)
    mine, mine_total = reports.audit_page(1, 100, reports.order_subjects(order.id))

    assert len(first) == 2 and total > 4
    assert first[0].at >= second[0].at and first != second
    assert mine_total < total
    assert {entry.subject_type for entry in mine} >= {"order", "payment_session"}
    assert reports.order_subjects("ord_missing") == set()
