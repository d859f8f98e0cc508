"""Webhook processing converges: any interleaving of duplicate, reordered, delayed and
redelivered events for a set of checkouts ends in the same orders, transactions, payment
sessions, receipt mails and reminders as one in-order delivery of each event
(https://docs.stripe.com/webhooks#handle-duplicate-events,
https://docs.stripe.com/webhooks#event-ordering).

Every delivery goes through ``POST /payments/webhooks/stripe`` signed with the endpoint's
secret, so signature checks, the inbox's dedupe on *processed* and the 500 answer that
makes Stripe retry are part of what is proven. Only event sets real Stripe can produce
are generated: an expired Checkout Session is never also completed, a declined
PaymentIntent may succeed later, refunds follow a payment, and a buyer's retry follows
the decline the service was told about.

The last tests pin orderings Stripe can produce that do not converge today (product
bugs, left unfixed here); they are excluded from the property's model."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from hypothesis import HealthCheck, event, given, note, settings
from hypothesis import strategies as st
from interleaving_support import (
    Answer,
    CheckoutPlan,
    Delivery,
    Ending,
    EndState,
    Fault,
    Marketplace,
    StripeEvent,
    marketplace,
)

DECLINES = ("insufficient_funds", "generic_decline", "do_not_honor")
FAULTS: tuple[Fault | None, ...] = (None, None, "stripe_down", "crash_before", "crash_after")
# Per ending, the fewest and most declines before it. Left out, because they diverge
# (see the xfail tests below): declines before an expiry, and two different declines
# left unpaid.
CONVERGENT: dict[Ending, tuple[int, int]] = {
    "paid": (0, 2), "retried_paid": (0, 2), "expired": (0, 0), "left_open": (1, 1),
    "delayed_paid": (0, 1), "delayed_failed": (0, 0),
}

# Amounts either side of the $500.00 above which 3-D Secure is requested and an
# unauthenticated payment is flagged for review.
amounts = st.one_of(st.sampled_from([49_999, 50_000, 50_001]), st.integers(1_000, 150_000))


@st.composite
def checkout_plans(draw: st.DrawFn) -> CheckoutPlan:
    ending = draw(st.sampled_from(sorted(CONVERGENT)))
    fewest, most = CONVERGENT[ending]
    declines = draw(st.lists(st.sampled_from(DECLINES), min_size=fewest, max_size=most))
    paid = ending in ("paid", "retried_paid")
    return CheckoutPlan(
        amount=draw(amounts),
        card=draw(st.sampled_from(["visa", "visa_3ds", "french"])),
        declines=tuple(declines), ending=ending,
        refunds=draw(st.sampled_from(["none", "full", "partial", "partial_then_full"]))
        if paid else "none")


def chaotic_schedule(data: st.DataObject, events: Sequence[StripeEvent]) -> list[Delivery]:
    """Each event delivered one to three times, some of those deliveries failing, in any
    order; at least one delivery of each succeeds (Stripe retries a failed one for three
    days, https://docs.stripe.com/webhooks#retries)."""
    deliveries: list[Delivery] = []
    for index, stripe_event in enumerate(events):
        faults = data.draw(st.lists(st.sampled_from(FAULTS), min_size=1, max_size=3),
                           label=f"faults of {stripe_event.id} {stripe_event.type}")
        if None not in faults:
            faults.append(None)
        deliveries += [Delivery(index, fault) for fault in faults]
    return list(data.draw(st.permutations(deliveries), label="schedule"))


def in_order(plans: Sequence[CheckoutPlan]) -> EndState:
    """Each event delivered once, in Stripe's order, on a fresh service."""
    return reordered(plans, None)


def reordered(plans: Sequence[CheckoutPlan], order: Sequence[int] | None) -> EndState:
    """Each event delivered once, in ``order`` (indexes into Stripe's order, the staged
    prelude left out), on a fresh service."""
    with marketplace() as market:
        events = [e for e in market.stage(plans) if not e.prelude]
        for index in range(len(events)) if order is None else order:
            assert market.deliver(events[index]).outcome == "processed"
        return market.end_state()


def deliver_all(market: Marketplace, events: Sequence[StripeEvent],
                schedule: Sequence[Delivery], spacing: int) -> list[Answer]:
    answers = []
    for delivery in schedule:
        market.clock.advance(spacing)
        answer = market.deliver(events[delivery.event], delivery.fault)
        if delivery.fault is None:  # a healthy delivery is never refused
            assert answer.http_status == 200, answer
        assert answer.outcome != "in_progress", answer  # one worker, no live claim
        answers.append(answer)
    return answers


def assert_inbox_settled(market: Marketplace, events: Sequence[StripeEvent],
                         answers: Sequence[Answer]) -> None:
    """One inbox row per event, each processed; its attempts are the deliveries that ran
    the handler (the staged prelude included), so no duplicate ran it again."""
    rows = market.repo.list_webhook_events(limit=1000)
    assert Counter(row.event_id for row in rows) == Counter(e.id for e in events)
    assert {row.event_id: row.status for row in rows} == {e.id: "processed" for e in events}
    ran = Counter(answer.event_id for answer in answers if answer.ran_handler)
    assert {row.event_id: row.attempts for row in rows} == {e.id: ran[e.id] for e in events}


@settings(max_examples=60, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(plans=st.lists(checkout_plans(), min_size=1, max_size=4), data=st.data(),
       spacing=st.sampled_from([0, 1, 37]))
def test_any_interleaving_of_deliveries_converges_to_the_in_order_result(
        plans: list[CheckoutPlan], data: st.DataObject, spacing: int) -> None:
    expected = in_order(plans)
    with marketplace() as market:
        events = market.stage(plans)
        schedule = chaotic_schedule(data, events)
        note("schedule: " + ", ".join(
            f"{events[d.event].id}{'!' + d.fault if d.fault else ''}" for d in schedule))
        answers = deliver_all(market, events, schedule, spacing)
        event("checkouts", len(plans))
        event("deliveries answered 500", sum(a.http_status == 500 for a in answers))
        staged = [Answer(e.id, None, 200, "processed") for e in events if e.prelude]
        assert_inbox_settled(market, events, staged + answers)
        assert market.end_state() == expected


# -- orderings Stripe can produce that do not converge today --------------------------------
# Stripe's order for a failed delayed payment: 0 checkout.session.completed (unpaid),
# 1 payment_intent.payment_failed, 2 checkout.session.async_payment_failed.
DELAYED_FAILURE = [CheckoutPlan(49_999, ending="delayed_failed")]


def test_a_late_completed_event_leaves_a_failed_delayed_payment_failed() -> None:
    expected = in_order(DELAYED_FAILURE).wins["win_1"].sessions
    assert reordered(DELAYED_FAILURE, [1, 2, 0]).wins["win_1"].sessions == expected


def test_a_failure_recorded_again_after_processing_keeps_its_reminders() -> None:
    expected = in_order(DELAYED_FAILURE).wins["win_1"].reminders
    assert reordered(DELAYED_FAILURE, [1, 0, 2]).wins["win_1"].reminders == expected


def test_a_failed_debit_after_a_declined_card_leaves_reminders() -> None:
    plans = [CheckoutPlan(49_999, declines=("generic_decline",), ending="delayed_failed")]
    assert len(in_order(plans).wins["win_1"].reminders) == 3


def test_a_decline_delivered_after_the_expiry_ends_in_the_same_session_state() -> None:
    plans = [CheckoutPlan(49_999, declines=("insufficient_funds",), ending="expired")]
    expected = in_order(plans).wins["win_1"].sessions
    assert reordered(plans, [1, 0]).wins["win_1"].sessions == expected


def test_two_declines_delivered_out_of_order_keep_the_latest_reason() -> None:
    plans = [CheckoutPlan(49_999, declines=("insufficient_funds", "generic_decline"),
                          ending="left_open")]
    expected = in_order(plans).wins["win_1"].sessions
    assert reordered(plans, [1, 0]).wins["win_1"].sessions == expected
