"""A declined card, the buyer-facing reason, and a retry that pays (at most 3 retries)."""

from __future__ import annotations

from integration_support import Marketplace

INSUFFICIENT_FUNDS = "pm_card_visa_chargeDeclinedInsufficientFunds"


def test_a_declined_card_then_a_retry_with_another_card_pays_once(market: Marketplace) -> None:
    win = market.win(31, 64_200)
    first = market.start(win)
    declined = market.pay(first["payment_session_id"], INSUFFICIENT_FUNDS)
    assert declined["status"] == "declined"

    status = market.status(first["payment_session_id"])
    assert status["status"] == "failed"
    assert status["failure_reason"] == ("Your card has insufficient funds. Try another card or"
                                        " contact your bank.")
    assert (status["attempts_used"], status["attempts_left"]) == (1, 3)

    retried = market.client().as_user("tok_alice").retry(first["payment_session_id"])
    assert retried.status_code == 201, retried.text
    second = retried.json()
    assert second["attempt"] == 2
    assert second["payment_session_id"] != first["payment_session_id"]
    old_checkout = market.session(first["payment_session_id"]).checkout_session_id
    assert market.sandbox.sdk.v1.checkout.sessions.retrieve(
        str(old_checkout)).status == "expired"  # the declined page can no longer be paid

    assert market.pay(second["payment_session_id"])["status"] == "paid"
    assert market.status(second["payment_session_id"])["status"] == "succeeded"
    assert len(market.orders(win)) == 1 and len(market.transactions(win)) == 1
    assert market.client().as_user("tok_alice").create_checkout(
        win.id).json()["error"]["code"] == "already_paid"


def test_after_three_retries_the_buyer_is_refused(market: Marketplace) -> None:
    win = market.win(32, 4_000)
    client = market.client().as_user("tok_alice")
    payment = market.start(win)["payment_session_id"]
    for attempt in range(2, 5):
        market.pay(payment, INSUFFICIENT_FUNDS)
        answer = client.retry(payment)
        assert answer.status_code == 201, answer.text
        assert answer.json()["attempt"] == attempt
        payment = answer.json()["payment_session_id"]
    market.pay(payment, INSUFFICIENT_FUNDS)

    refused = client.retry(payment)
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "retries_exhausted"
    assert market.status(payment)["attempts_left"] == 0
    assert len(market.sandbox.checkout_sessions_for(win.id)) == 4


def test_a_reminder_with_a_fresh_link_follows_a_failure(market: Marketplace) -> None:
    win = market.win(33, 8_800)
    market.pay(market.start(win)["payment_session_id"], INSUFFICIENT_FUNDS)
    market.mailer.sent.clear()
    market.advance(3600 + 60)  # the first reminder is due an hour after the failure
    reminders = [mail for mail in market.mailer.sent if mail[1].startswith("Reminder")]
    assert [(to, subject) for to, subject, _, _ in reminders] == [
        ("alice@example.test", "Reminder: complete your payment for lot 33")]
    assert f"{market.sandbox.url}/c/pay/cs_" in reminders[0][2]  # a link that can be paid
