"""PaymentService's timed rules, run by the scheduler against the service clock: the
window's end, Stripe-side expiry when a webhook was missed, and payment reminders."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from freezegun.api import FrozenDateTimeFactory
from payments_support import HOUR, World, make_world

from simulator.service.domain.window import PaymentWindow
from simulator.service.payments import PaymentRefused


def at(timestamp: float) -> str:
    return dt.datetime.fromtimestamp(timestamp, tz=dt.UTC).isoformat()


def closes_at(world: World) -> int:
    return PaymentWindow(world.win.ended_at).closes_at


# -- the window's end ------------------------------------------------------------------------
def test_the_window_closes_unpaid(world: World) -> None:
    checkout_id = world.start()
    world.frozen.move_to(at(closes_at(world)))

    assert world.service.run_due_jobs() >= 1

    assert world.stripe.sessions[checkout_id].status == "expired"
    [session] = world.repo.sessions_for_win(world.win.id)
    assert (session.status, session.failure_code) == ("expired", "window_closed")
    order = world.repo.order_for_win(world.win.id)
    assert order is not None and order.status == "canceled" and order.transaction_id is None
    assert [e.action for e in world.repo.audit_for("order", order.id)] == ["order.canceled"]
    [mail] = world.mailer.sent
    assert mail.subject == "Payment window closed for lot 17"


def test_a_second_before_the_end_nothing_closes(world: World) -> None:
    world.start()
    world.frozen.move_to(at(closes_at(world) - 1))

    world.service.run_due_jobs()

    assert world.repo.order_for_win(world.win.id) is None
    assert world.repo.sessions_for_win(world.win.id)[0].status == "open"


def test_a_win_nobody_tried_to_pay_is_canceled_without_calling_stripe(world: World) -> None:
    world.frozen.move_to(at(closes_at(world) + 1))

    world.service.run_due_jobs()

    assert world.repo.order_for_win(world.win.id).status == "canceled"  # type: ignore[union-attr]
    assert world.stripe.calls == {}


def test_closing_finds_a_payment_whose_webhook_never_came(world: World) -> None:
    world.stripe.pay(world.start(), card="visa_3ds")  # the events are lost
    world.frozen.move_to(at(closes_at(world)))

    world.service.run_due_jobs()

    order = world.repo.order_for_win(world.win.id)
    assert order is not None and order.status == "paid"
    assert world.repo.count("transactions") == 1


def test_a_paid_win_closes_quietly(world: World) -> None:
    world.deliver(*world.stripe.pay(world.start(), card="visa_3ds"))
    world.frozen.move_to(at(closes_at(world) + 5))

    world.service.run_due_jobs()

    assert world.repo.order_for_win(world.win.id).status == "paid"  # type: ignore[union-attr]
    assert len(world.mailer.sent) == 1  # the receipt only


def test_a_session_made_in_the_last_half_hour_is_expired_by_the_service(world: World) -> None:
    world.frozen.move_to(at(closes_at(world) - 10 * 60))
    checkout_id = world.start()
    assert world.stripe.sessions[checkout_id].expires_at > closes_at(world)

    world.frozen.move_to(at(closes_at(world)))
    world.service.run_due_jobs()

    assert world.stripe.sessions[checkout_id].status == "expired"
    assert world.repo.order_for_win(world.win.id).status == "canceled"  # type: ignore[union-attr]


def test_closing_retries_while_stripe_is_down(world: World) -> None:
    from simulator.service.adapters.errors import PaymentsUnavailable

    world.start()
    world.stripe.unavailable = PaymentsUnavailable("circuit_open")
    world.frozen.move_to(at(closes_at(world)))
    world.service.run_due_jobs()
    assert world.repo.order_for_win(world.win.id) is None

    world.stripe.unavailable = None
    world.advance(60)
    world.service.run_due_jobs()

    assert world.repo.order_for_win(world.win.id).status == "canceled"  # type: ignore[union-attr]


def test_the_window_closing_during_the_stripe_call_expires_the_new_session(
        world: World) -> None:
    world.frozen.move_to(at(closes_at(world) - 2))

    def window_closes() -> None:
        world.frozen.move_to(at(closes_at(world)))
        world.service.run_due_jobs()

    world.stripe.while_creating = window_closes
    with pytest.raises(PaymentRefused) as refused:
        world.service.start_checkout(world.buyer.id, world.win.id)

    assert refused.value.code == "window_closed"
    [session] = world.repo.sessions_for_win(world.win.id)
    assert session.status == "canceled" and session.checkout_session_id is not None
    assert world.stripe.sessions[session.checkout_session_id].status == "expired"
    assert world.repo.order_for_win(world.win.id).status == "canceled"  # type: ignore[union-attr]


# -- Stripe-side expiry ----------------------------------------------------------------------
def test_a_missed_expired_webhook_is_reconciled_from_stripe(
        tmp_path: Any, frozen: FrozenDateTimeFactory) -> None:
    """A 48-hour window outlives a Checkout Session (24 h at most): after its expiry the
    job re-reads it, and the buyer may start a new attempt."""
    world = make_world(tmp_path, frozen, payment_window_hours=48)
    checkout_id = world.start()
    session = world.repo.sessions_for_win(world.win.id)[0]
    world.frozen.move_to(at(session.expires_at))
    world.stripe.expire(checkout_id)  # its webhook is lost

    world.advance(60)
    world.service.run_due_jobs()

    assert world.repo.get_payment_session(session.id).status == "expired"  # type: ignore[union-attr]
    assert world.service.start_checkout(world.buyer.id, world.win.id).payment_session.attempt == 2


def test_the_expiry_check_leaves_a_paid_session_alone(world: World) -> None:
    world.deliver(*world.stripe.pay(world.start(), card="visa_3ds"))
    retrieves = world.stripe.calls.get("retrieve", 0)
    world.frozen.move_to(at(closes_at(world) + 120))

    world.service.run_due_jobs()

    assert world.stripe.calls.get("retrieve", 0) == retrieves


# -- reminders -------------------------------------------------------------------------------
def test_a_reminder_brings_a_fresh_payment_link(world: World) -> None:
    world.deliver(world.stripe.decline(world.start()))

    world.advance(HOUR)
    world.service.run_due_jobs()

    sessions = world.repo.sessions_for_win(world.win.id)
    assert [(s.attempt, s.status) for s in sessions] == [(1, "failed"), (2, "open")]
    [mail] = world.mailer.sent
    assert mail.subject == "Reminder: complete your payment for lot 17"
    assert str(sessions[1].checkout_url) in mail.text
    assert "22 h 59 min left" in mail.text


def test_later_reminders_reuse_the_open_link(world: World) -> None:
    world.deliver(world.stripe.decline(world.start()))
    world.advance(HOUR)
    world.service.run_due_jobs()

    world.advance(5 * HOUR)
    world.service.run_due_jobs()

    assert len(world.repo.sessions_for_win(world.win.id)) == 2
    first, second = world.mailer.sent
    link = str(world.repo.sessions_for_win(world.win.id)[1].checkout_url)
    assert link in first.text and link in second.text


def test_payment_stops_the_reminders(world: World) -> None:
    world.deliver(world.stripe.decline(world.start()))
    world.advance(HOUR)
    world.service.run_due_jobs()
    link_session = world.repo.sessions_for_win(world.win.id)[1]
    world.deliver(*world.stripe.pay(str(link_session.checkout_session_id), card="visa_3ds"))

    world.advance(20 * HOUR)
    world.service.run_due_jobs()

    subjects = [mail.subject for mail in world.mailer.sent]
    assert subjects == ["Reminder: complete your payment for lot 17", "Your receipt for lot 17"]


def test_reminders_never_reach_past_the_window(world: World) -> None:
    world.frozen.move_to(at(closes_at(world) - 4 * HOUR))

    world.deliver(world.stripe.decline(world.start()))

    [reminder] = world.repo.pending_jobs("send_reminder")
    assert reminder.due_at == world.clock.timestamp() + HOUR


def test_no_reminder_once_the_retries_are_used_up(world: World) -> None:
    for _ in range(4):
        world.deliver(world.stripe.decline(world.start()))

    world.advance(HOUR)
    world.service.run_due_jobs()

    assert world.mailer.sent == []
    assert len(world.repo.sessions_for_win(world.win.id)) == 4


def test_a_new_failure_replaces_the_earlier_reminders(world: World) -> None:
    world.deliver(world.stripe.decline(world.start()))
    first = world.repo.sessions_for_win(world.win.id)[0]
    world.advance(10 * 60)
    second = world.service.retry(world.buyer.id, first.id).payment_session

    world.deliver(world.stripe.decline(str(second.checkout_session_id)))

    refs = [job.ref for job in world.repo.pending_jobs("send_reminder")]
    assert refs == [f"{world.win.id}:{second.id}:{n}" for n in (1, 2, 3)]
