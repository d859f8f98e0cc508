"""PaymentService: starting a checkout, retrying, the status view and the buyer's return.

Stripe is an in-memory double here (``payments_support.FakeStripe``); the same flows run
over real HTTP against the sandbox in ``tests/service/integration``."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from freezegun.api import FrozenDateTimeFactory
from payments_support import HOUR, World, make_world

from simulator.service.adapters.errors import PaymentsUnavailable, StripeRejected
from simulator.service.domain.window import PaymentWindow
from simulator.service.payments import PaymentRefused


def refusal(call: Any, *args: Any) -> PaymentRefused:
    with pytest.raises(PaymentRefused) as caught:
        call(*args)
    return caught.value


# -- starting --------------------------------------------------------------------------------
def test_start_checkout_stores_the_key_then_creates_one_checkout_session(world: World) -> None:
    started = world.service.start_checkout(world.buyer.id, world.win.id)

    session = started.payment_session
    assert started.created is True
    assert session.status == "open" and session.attempt == 1
    assert session.idempotency_key.startswith("ps-")
    assert session.checkout_url == f"https://checkout.test/{session.checkout_session_id}"
    stored = world.repo.get_payment_session(session.id)
    assert stored == session
    assert world.stripe.by_key == {session.idempotency_key: session.checkout_session_id}
    request = world.stripe.requests[str(session.checkout_session_id)]
    assert request["customer_email"] == "grace@example.com"
    assert request["success_url"] == \
        "http://shop.test/payments/return?session_id={CHECKOUT_SESSION_ID}"
    assert request["cancel_url"] == \
        f"http://shop.test/payments/cancel?payment_session_id={session.id}"
    info = world.stripe.sessions[str(session.checkout_session_id)]
    assert info.metadata == {"payment_session_id": session.id, "win_id": world.win.id,
                             "buyer_id": world.buyer.id, "attempt": "1"}


def test_every_change_of_the_session_is_audited(world: World) -> None:
    session = world.service.start_checkout(world.buyer.id, world.win.id).payment_session

    entries = world.repo.audit_for("payment_session", session.id)
    assert [e.action for e in entries] == ["payment_session.created",
                                           "payment_session.checkout_created"]
    assert entries[0].actor == f"user:{world.buyer.id}"
    assert entries[1].changed_fields()["checkout_session_id"] == \
        (None, session.checkout_session_id)
    assert "idempotency_key" not in (entries[1].after or {})


def test_a_double_click_returns_the_same_session(world: World) -> None:
    first = world.service.start_checkout(world.buyer.id, world.win.id)
    second = world.service.start_checkout(world.buyer.id, world.win.id)

    assert second.created is False
    assert second.payment_session == first.payment_session
    assert world.stripe.calls["create"] == 1


def test_concurrent_starts_make_one_session(world: World) -> None:
    results: list[str] = []
    errors: list[BaseException] = []

    def start() -> None:
        try:
            results.append(world.start())
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=start) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert len(set(results)) == 1
    assert len(world.repo.sessions_for_win(world.win.id)) == 1
    assert len(world.stripe.sessions) == 1


def test_the_checkout_session_expires_with_the_window(world: World) -> None:
    session = world.service.start_checkout(world.buyer.id, world.win.id).payment_session

    window = PaymentWindow(world.win.ended_at)
    assert session.expires_at == session.window_ends_at == window.closes_at
    assert [job.ref for job in world.repo.pending_jobs("check_stripe_expiry")] == [session.id]


def test_with_less_than_30_minutes_left_stripe_gets_its_minimum(world: World) -> None:
    window = PaymentWindow(world.win.ended_at)
    world.frozen.move_to(_at(window.closes_at - 20 * 60))

    session = world.service.start_checkout(world.buyer.id, world.win.id).payment_session

    assert session.expires_at == world.clock.timestamp() + 31 * 60
    assert session.expires_at > session.window_ends_at == window.closes_at


@pytest.mark.parametrize(("amount", "currency", "requested"), [
    (64200, "usd", True), (50000, "usd", False), (18500, "usd", False),
    (310000, "eur", True), (45000, "gbp", True), (39000, "gbp", False),
])
def test_three_d_secure_is_requested_above_the_currency_threshold(
        world: World, amount: int, currency: str, requested: bool) -> None:
    win = world.add_win(amount=amount, currency=currency)

    session = world.service.start_checkout(world.buyer.id, win.id).payment_session

    assert world.stripe.requests[str(session.checkout_session_id)][
        "request_three_d_secure"] is requested


def test_three_d_secure_thresholds_come_from_the_config(
        tmp_path: Any, frozen: FrozenDateTimeFactory) -> None:
    world = make_world(tmp_path, frozen, three_d_secure_thresholds={"usd": 10_000})

    session = world.service.start_checkout(world.buyer.id, world.win.id).payment_session

    assert world.stripe.requests[str(session.checkout_session_id)]["request_three_d_secure"]


# -- refusals ------------------------------------------------------------------------------
def test_an_unknown_auction_is_not_found(world: World) -> None:
    error = refusal(world.service.start_checkout, world.buyer.id, "win_nope")
    assert (error.code, error.http_status) == ("not_found", 404)


def test_only_the_winner_may_pay(world: World) -> None:
    error = refusal(world.service.start_checkout, "usr_other", world.win.id)
    assert (error.code, error.http_status, error.message) == (
        "not_winner", 403, "Only the winning bidder can pay for this lot.")
    assert "create" not in world.stripe.calls


def test_a_second_before_the_window_closes_a_checkout_starts(world: World) -> None:
    world.frozen.move_to(_at(PaymentWindow(world.win.ended_at).closes_at - 1))

    assert world.service.start_checkout(world.buyer.id, world.win.id).created


@pytest.mark.parametrize("after", [0, 1])
def test_from_the_closing_second_the_window_is_closed(world: World, after: int) -> None:
    world.frozen.move_to(_at(PaymentWindow(world.win.ended_at).closes_at + after))

    error = refusal(world.service.start_checkout, world.buyer.id, world.win.id)

    assert (error.code, error.http_status) == ("window_closed", 410)
    assert error.message == "The 24-hour payment window for this lot has closed."
    assert world.repo.sessions_for_win(world.win.id) == []


def test_a_paid_win_cannot_be_paid_again(world: World) -> None:
    world.deliver(*world.stripe.pay(world.start()))

    error = refusal(world.service.start_checkout, world.buyer.id, world.win.id)

    assert (error.code, error.http_status) == ("already_paid", 409)


def test_stripe_unavailable_is_a_503_and_one_alert(world: World) -> None:
    world.stripe.unavailable = PaymentsUnavailable("circuit_open")

    for _ in range(3):
        error = refusal(world.service.start_checkout, world.buyer.id, world.win.id)
        assert (error.code, error.http_status) == ("payments_unavailable", 503)
        assert error.message == \
            "Payments are temporarily unavailable, please try again in a minute"

    assert [a.kind for a in world.repo.list_alerts()] == ["circuit_open"]


def test_after_an_outage_the_same_key_makes_the_one_session(world: World) -> None:
    world.stripe.unavailable = PaymentsUnavailable("retries_exhausted")
    refusal(world.service.start_checkout, world.buyer.id, world.win.id)
    pending = world.repo.sessions_for_win(world.win.id)
    world.stripe.unavailable = None

    started = world.service.start_checkout(world.buyer.id, world.win.id)

    assert started.payment_session.id == pending[0].id
    assert started.payment_session.idempotency_key == pending[0].idempotency_key
    assert started.payment_session.checkout_url is not None
    assert len(world.stripe.sessions) == 1
    assert world.repo.list_alerts() == []  # not the breaker: no alert


def test_a_create_stripe_refuses_cancels_the_attempt_without_counting_it(world: World) -> None:
    world.stripe.reject_create = StripeRejected(
        code="parameter_invalid_integer", param="expires_at", message="Invalid expires_at",
        http_status=400)

    error = refusal(world.service.start_checkout, world.buyer.id, world.win.id)
    world.stripe.reject_create = None
    started = world.service.start_checkout(world.buyer.id, world.win.id)

    assert (error.code, error.http_status) == ("checkout_failed", 502)
    statuses = [(s.attempt, s.status) for s in world.repo.sessions_for_win(world.win.id)]
    assert statuses == [(1, "canceled"), (2, "open")]
    assert world.service.status(world.buyer.id, started.payment_session.id).attempts_used == 1


# -- retrying --------------------------------------------------------------------------------
def test_retry_after_a_decline_closes_the_old_checkout_and_opens_a_new_one(world: World) -> None:
    first = world.start()
    world.deliver(world.stripe.decline(first))
    failed = world.repo.sessions_for_win(world.win.id)[0]

    started = world.service.retry(world.buyer.id, failed.id)

    assert started.created and started.payment_session.attempt == 2
    assert world.stripe.sessions[first].status == "expired"
    assert world.repo.get_payment_session(failed.id).status == "failed"  # type: ignore[union-attr]


def test_at_most_three_retries(world: World) -> None:
    for _ in range(4):
        world.deliver(world.stripe.decline(world.start()))
    last = world.repo.sessions_for_win(world.win.id)[-1]

    error = refusal(world.service.retry, world.buyer.id, last.id)

    assert (error.code, error.http_status) == ("retries_exhausted", 409)
    assert len(world.repo.sessions_for_win(world.win.id)) == 4
    view = world.service.status(world.buyer.id, last.id)
    assert (view.attempts_used, view.attempts_left) == (4, 0)


def test_retry_of_an_open_session_returns_it(world: World) -> None:
    session = world.service.start_checkout(world.buyer.id, world.win.id).payment_session

    again = world.service.retry(world.buyer.id, session.id)

    assert again.created is False and again.payment_session.id == session.id


def test_retry_refusals(world: World) -> None:
    session = world.service.start_checkout(world.buyer.id, world.win.id).payment_session

    assert refusal(world.service.retry, world.buyer.id, "ps_nope").code == "not_found"
    assert refusal(world.service.retry, "usr_other", session.id).code == "not_winner"


# -- the status view and the return from Checkout ----------------------------------------------
def test_the_status_view_of_an_open_payment(world: World) -> None:
    session = world.service.start_checkout(world.buyer.id, world.win.id).payment_session
    world.advance(HOUR)

    view = world.service.status(world.buyer.id, session.id)

    assert (view.id, view.status, view.amount, view.currency, view.amount_display) == (
        session.id, "open", 64200, "usd", "$642.00")
    assert view.seconds_left == 23 * HOUR - 60
    assert (view.attempts_used, view.attempts_left) == (1, 3)
    assert view.checkout_url == session.checkout_url
    assert view.receipt_url is None and view.failure_reason is None
    assert (view.lot, view.title, view.win_id) == (17, world.win.title, world.win.id)


def test_an_admin_may_see_any_payment_another_buyer_may_not(world: World) -> None:
    session = world.service.start_checkout(world.buyer.id, world.win.id).payment_session

    assert world.service.status(world.admin.id, session.id).id == session.id
    error = refusal(world.service.status, "usr_other", session.id)
    assert (error.code, error.http_status) == ("forbidden", 403)
    assert refusal(world.service.status, world.buyer.id, "ps_nope").http_status == 404


def test_the_return_asks_stripe_and_records_a_payment_whose_webhook_is_late(
        world: World) -> None:
    checkout_id = world.start()
    world.stripe.pay(checkout_id)  # the events are not delivered

    view = world.service.confirm_return(checkout_id)

    assert view.status == "succeeded"
    assert view.order_id is not None
    assert view.receipt_url == f"/payments/receipts/{view.order_id}.pdf"
    assert view.checkout_url is None and view.attempts_left == 0
    assert world.repo.count("transactions") == 1


def test_the_return_of_an_unpaid_session_changes_nothing(world: World) -> None:
    checkout_id = world.start()

    view = world.service.confirm_return(checkout_id)

    assert view.status == "open"
    assert world.stripe.calls["retrieve"] == 1


def test_the_return_when_stripe_is_down_shows_what_we_know(world: World) -> None:
    checkout_id = world.start()
    world.stripe.unavailable = PaymentsUnavailable("circuit_open")

    assert world.service.confirm_return(checkout_id).status == "open"


def test_the_return_checks_who_is_asking(world: World) -> None:
    checkout_id = world.start()

    assert refusal(world.service.confirm_return, "cs_test_nope").code == "not_found"
    assert refusal(world.service.confirm_return, checkout_id, "usr_other").code == "forbidden"


def _at(timestamp: float) -> str:
    import datetime as dt

    return dt.datetime.fromtimestamp(timestamp, tz=dt.UTC).isoformat()
