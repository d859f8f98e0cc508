"""PaymentService.handle_event: exactly one transaction and one order per paid win,
whatever Stripe sends twice, late, or out of order
(https://docs.stripe.com/webhooks#handle-duplicate-events)."""

from __future__ import annotations

import itertools
import sqlite3
import threading
from dataclasses import replace
from typing import Any

import pytest
from payments_support import HOUR, World

from simulator.service.adapters.errors import MailNotSent, PaymentsUnavailable
from simulator.service.domain.window import PaymentWindow


def assert_paid_once(world: World) -> None:
    assert world.repo.count("transactions") == 1
    assert world.repo.count("orders") == 1
    order = world.repo.order_for_win(world.win.id)
    txn = world.repo.transactions_for_win(world.win.id)[0]
    assert order is not None and order.status == "paid" and order.transaction_id == txn.id
    statuses = [s.status for s in world.repo.sessions_for_win(world.win.id)]
    assert statuses.count("succeeded") == 1


# -- the happy path ----------------------------------------------------------------------------
def test_a_payment_makes_a_transaction_an_order_a_receipt_and_a_mail(world: World) -> None:
    world.deliver(*world.stripe.pay(world.start(), card="visa_3ds"))

    assert_paid_once(world)
    txn = world.repo.transactions_for_win(world.win.id)[0]
    assert (txn.amount, txn.fee, txn.net, txn.currency) == (64200, 1892, 62308, "usd")
    assert (txn.card_brand, txn.card_last4, txn.three_d_secure_result) == (
        "visa", "3184", "authenticated")
    assert txn.review_status == "none"
    order = world.repo.order_for_win(world.win.id)
    assert order is not None and order.receipt_path == f"memory://{order.id}.pdf"
    [mail] = world.mailer.sent
    assert mail.to == "grace@example.com"
    assert mail.subject == "Your receipt for lot 17"
    assert "$642.00" in mail.text and "Visa ending 3184" in mail.text
    assert mail.attachments == [(f"receipt-{order.id}.pdf", world.receipts.files[order.id],
                                 "application/pdf")]
    assert world.repo.list_mail()[0].status == "sent"


def test_the_payment_writes_its_audit_trail(world: World) -> None:
    world.deliver(*world.stripe.pay(world.start()))

    order = world.repo.order_for_win(world.win.id)
    txn = world.repo.transactions_for_win(world.win.id)[0]
    session = world.repo.sessions_for_win(world.win.id)[0]
    assert [e.action for e in world.repo.audit_for("transaction", txn.id)] == \
        ["transaction.recorded"]
    assert order is not None
    assert [e.action for e in world.repo.audit_for("order", order.id)] == \
        ["order.created", "order.receipt_attached"]
    actions = [e.action for e in world.repo.audit_for("payment_session", session.id)]
    assert actions[-1] == "payment_session.succeeded"
    assert all(e.actor == "stripe" for e in world.repo.audit_for("transaction", txn.id))


# -- duplicates and reordering -----------------------------------------------------------------
EVENT_ORDERS = list(itertools.permutations(range(2)))


@pytest.mark.parametrize("order", EVENT_ORDERS)
def test_completed_and_succeeded_in_any_order(world: World, order: tuple[int, ...]) -> None:
    events = world.stripe.pay(world.start())

    world.deliver(*(events[i] for i in order))

    assert_paid_once(world)
    assert world.stripe.calls["payment_details"] == 1  # the second event: one read, out


def test_every_event_delivered_three_times(world: World) -> None:
    events = world.stripe.pay(world.start())

    world.deliver(*(events * 3))

    assert_paid_once(world)
    assert len(world.mailer.sent) == 1


def test_expired_after_completed_changes_nothing(world: World) -> None:
    checkout_id = world.start()
    world.deliver(*world.stripe.pay(checkout_id))
    session = world.stripe.sessions[checkout_id]

    world.deliver(world.stripe.event("checkout.session.expired",
                                     {**world.stripe.session_object(session),
                                      "status": "expired"}))

    assert_paid_once(world)


def test_completed_after_expired_still_records_the_payment(world: World) -> None:
    """The buyer paid just before expiry; the expired event (for another attempt or a
    retried delivery) came first. Money taken is never ignored."""
    checkout_id = world.start()
    paid = world.stripe.pay(checkout_id, card="visa_3ds")
    info = world.stripe.sessions[checkout_id]
    world.deliver(world.stripe.event("checkout.session.expired",
                                     {**world.stripe.session_object(info), "status": "expired"}))

    world.deliver(*paid)

    assert_paid_once(world)
    assert [a.kind for a in world.repo.list_alerts()] == ["late_payment"]


def test_concurrent_deliveries_record_one_payment(world: World) -> None:
    events = world.stripe.pay(world.start())
    errors: list[BaseException] = []

    def deliver(event: dict[str, Any]) -> None:
        try:
            world.service.handle_event(event)
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=deliver, args=(event,)) for event in events * 5]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert_paid_once(world)
    assert len(world.mailer.sent) == 1


def test_events_for_sessions_that_are_not_ours_are_ignored(world: World) -> None:
    world.deliver(world.stripe.event("checkout.session.completed", {
        "id": "cs_test_elsewhere", "object": "checkout.session", "status": "complete",
        "payment_status": "paid", "payment_intent": "pi_elsewhere", "metadata": {}}))
    world.deliver(world.stripe.event("customer.created", {"id": "cus_1", "object": "customer"}))

    assert world.repo.count("transactions") == 0


# -- failures ----------------------------------------------------------------------------------
def test_a_decline_fails_the_session_with_words_the_buyer_can_act_on(world: World) -> None:
    checkout_id = world.start()

    world.deliver(world.stripe.decline(checkout_id, "insufficient_funds"))

    [session] = world.repo.sessions_for_win(world.win.id)
    assert (session.status, session.failure_code) == ("failed", "insufficient_funds")
    assert session.failure_reason == \
        "Your card has insufficient funds. Try another card or contact your bank."
    reminders = world.repo.pending_jobs("send_reminder")
    now = world.clock.timestamp()
    assert [job.due_at - now for job in reminders] == [HOUR, 6 * HOUR, 18 * HOUR]


def test_an_authentication_failure_explains_the_bank_check(world: World) -> None:
    world.deliver(world.stripe.decline(world.start(), decline_code="",
                                       code="payment_intent_authentication_failure"))

    [session] = world.repo.sessions_for_win(world.win.id)
    assert session.failure_reason is not None
    assert session.failure_reason.startswith("Your bank could not authenticate the payment")


def test_a_decline_then_another_card_on_the_same_page(world: World) -> None:
    checkout_id = world.start()
    world.deliver(world.stripe.decline(checkout_id))

    world.deliver(*world.stripe.pay(checkout_id))

    assert_paid_once(world)
    assert world.repo.pending_jobs("send_reminder") == []


def test_a_late_decline_after_the_payment_changes_nothing(world: World) -> None:
    checkout_id = world.start()
    failed = world.stripe.decline(checkout_id)
    world.deliver(*world.stripe.pay(checkout_id))

    world.deliver(failed)

    assert_paid_once(world)


def test_a_handler_failure_raises_alerts_and_is_redone_on_redelivery(world: World) -> None:
    events = world.stripe.pay(world.start())
    world.stripe.unavailable = PaymentsUnavailable("retries_exhausted")

    with pytest.raises(PaymentsUnavailable):
        world.deliver(events[0])

    assert world.repo.count("transactions") == 0
    assert [a.kind for a in world.repo.list_alerts()] == ["handler_failure"]
    world.stripe.unavailable = None
    world.deliver(events[0])
    assert_paid_once(world)


def test_a_mail_server_down_never_loses_the_payment(world: World) -> None:
    world.mailer.failure = MailNotSent("SMTP server unreachable", permanent=False)

    world.deliver(*world.stripe.pay(world.start()))

    assert_paid_once(world)
    [queued] = world.repo.list_mail()
    assert (queued.status, queued.attempts) == ("pending", 1)
    world.mailer.failure = None
    world.advance(30)
    world.service.run_due_jobs()
    assert world.repo.list_mail()[0].status == "sent"
    assert len(world.mailer.sent) == 1


def test_a_refused_recipient_is_given_up_with_an_alert(world: World) -> None:
    world.mailer.failure = MailNotSent("recipient refused: [550]", permanent=True)

    world.deliver(*world.stripe.pay(world.start(), card="visa_3ds"))

    assert world.repo.list_mail()[0].status == "failed"
    assert [a.kind for a in world.repo.list_alerts()] == ["mail_failed"]


# -- fraud review ------------------------------------------------------------------------------
@pytest.mark.parametrize(("card", "amount", "flags"), [
    ("visa_3ds", 64200, ()),
    ("visa", 18500, ()),
    ("visa", 64200, ("high_value_unauthenticated",)),
    ("risky", 18500, ("radar_risk",)),
    ("french", 18500, ("country_mismatch",)),
])
def test_fraud_rules_flag_for_review(world: World, card: str, amount: int,
                                     flags: tuple[str, ...]) -> None:
    world.win = world.add_win(amount=amount)

    world.deliver(*world.stripe.pay(world.start(), card=card))

    txn = world.repo.transactions_for_win(world.win.id)[0]
    assert txn.review_flags == flags
    assert txn.review_status == ("pending" if flags else "none")
    assert [a.kind for a in world.repo.list_alerts()] == (["review_needed"] if flags else [])
    assert world.repo.review_queue() == ([txn] if flags else [])


def test_an_admin_clears_a_review(world: World) -> None:
    world.deliver(*world.stripe.pay(world.start(), card="risky"))
    txn = world.repo.transactions_for_win(world.win.id)[0]

    cleared = world.service.resolve_review(world.admin.id, txn.id)

    assert cleared.review_status == "cleared" and world.repo.review_queue() == []
    assert world.repo.audit_for("transaction", txn.id)[-1].actor == f"user:{world.admin.id}"


# -- refunds, late and double payments ---------------------------------------------------------
def test_a_full_refund_refunds_the_order(world: World) -> None:
    events = world.stripe.pay(world.start())
    world.deliver(*events)
    payment_intent = events[1]["data"]["object"]["id"]

    world.deliver(world.stripe.refund(payment_intent, 20000))
    txn = world.repo.transactions_for_win(world.win.id)[0]
    assert (txn.status, txn.amount_refunded) == ("partially_refunded", 20000)
    world.deliver(world.stripe.refund(payment_intent))

    txn = world.repo.transactions_for_win(world.win.id)[0]
    order = world.repo.order_for_win(world.win.id)
    assert (txn.status, txn.amount_refunded) == ("refunded", 64200)
    assert order is not None and order.status == "refunded"


def test_a_refund_that_overtakes_the_payment_records_both(world: World) -> None:
    events = world.stripe.pay(world.start())

    world.deliver(world.stripe.refund(events[1]["data"]["object"]["id"]))

    txn = world.repo.transactions_for_win(world.win.id)[0]
    assert txn.status == "refunded"


def test_a_payment_made_in_time_but_reported_after_the_window_closed(world: World) -> None:
    """The webhook was late and the close-window job saw Stripe still open (its expire
    call lost); the order was canceled. The payment that arrives later is honoured."""
    checkout_id = world.start()
    events = world.stripe.pay(checkout_id, card="visa_3ds")
    world.frozen.move_to(_at(PaymentWindow(world.win.ended_at).closes_at + 1))
    world.service._cancel_order(world.win)  # the state the lost race leaves behind
    assert world.repo.order_for_win(world.win.id).status == "canceled"  # type: ignore[union-attr]

    world.deliver(*events)

    assert_paid_once(world)
    assert [a.kind for a in world.repo.list_alerts()] == ["late_payment"]
    order = world.repo.order_for_win(world.win.id)
    assert order is not None
    assert [e.action for e in world.repo.audit_for("order", order.id)][:2] == \
        ["order.canceled", "order.paid"]


def test_a_second_payment_for_a_paid_win_is_flagged_not_ordered(world: World) -> None:
    first = world.start()
    world.deliver(world.stripe.decline(first))
    session = world.repo.sessions_for_win(world.win.id)[0]
    second = world.service.retry(world.buyer.id, session.id).payment_session
    # The buyer had the first page open in another tab and Stripe took both payments.
    world.stripe.sessions[first] = replace(world.stripe.sessions[first], status="open")
    paid_second = world.stripe.pay(str(second.checkout_session_id), card="visa_3ds")
    paid_first = world.stripe.pay(first, card="visa_3ds")

    world.deliver(*paid_second, *paid_first)

    assert world.repo.count("orders") == 1 and world.repo.count("transactions") == 2
    duplicate = [t for t in world.repo.transactions_for_win(world.win.id)
                 if "duplicate_payment" in t.review_flags]
    assert len(duplicate) == 1
    assert "duplicate_payment" in [a.kind for a in world.repo.list_alerts()]
    assert len(world.mailer.sent) == 1


def _at(timestamp: float) -> str:
    import datetime as dt

    return dt.datetime.fromtimestamp(timestamp, tz=dt.UTC).isoformat()


def test_a_change_its_audit_entry_and_its_mail_commit_together(
        world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    events = world.stripe.pay(world.start(), card="visa_3ds")
    real_add_audit = world.repo.add_audit

    def failing_audit(entry: Any) -> None:
        if entry.action == "order.created":
            raise sqlite3.OperationalError("disk I/O error")
        real_add_audit(entry)

    monkeypatch.setattr(world.repo, "add_audit", failing_audit)
    with pytest.raises(sqlite3.OperationalError):
        world.deliver(events[0])

    assert world.repo.count("transactions") == 0 and world.repo.count("orders") == 0
    assert world.repo.list_mail() == [] and world.repo.pending_jobs("issue_receipt") == []
    assert world.repo.sessions_for_win(world.win.id)[0].status == "open"
    monkeypatch.setattr(world.repo, "add_audit", real_add_audit)
    world.deliver(events[0])
    assert_paid_once(world)
