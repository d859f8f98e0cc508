"""A winner pays through Stripe Checkout; Stripe's webhooks make the order."""

from __future__ import annotations

import io

import pypdf
from integration_support import ADMIN, ALICE, BOB, Marketplace


def test_a_winner_pays_and_gets_one_order_one_transaction_and_a_receipt(
        market: Marketplace) -> None:
    win = market.win(17, 64_200, title="Brass carriage clock")
    started = market.start(win)
    assert started["created"] is True
    assert started["checkout_url"].startswith(f"{market.sandbox.url}/c/pay/cs_")

    outcome = market.pay(started["payment_session_id"])
    assert outcome["status"] == "paid"

    status = market.status(started["payment_session_id"])
    assert status["status"] == "succeeded"
    assert status["amount_display"] == "$642.00"
    assert status["receipt_url"].startswith(f"/payments/receipts/{status['order_id']}.pdf?sig=")
    [order] = market.orders(win)
    assert order.status == "paid"
    [txn] = market.transactions(win)
    assert (txn.amount, txn.currency, txn.card_brand, txn.card_last4) == (64_200, "usd",
                                                                          "visa", "4242")
    assert order.transaction_id == txn.id
    assert market.inbox_failures() == []


def test_the_receipt_is_a_pdf_for_the_buyer_only(market: Marketplace) -> None:
    win = market.win(21, 12_500, title="Pair of silver candlesticks")
    started = market.start(win)
    market.pay(started["payment_session_id"])
    receipt_url = market.status(started["payment_session_id"])["receipt_url"]

    pdf = market.client(ALICE).session.get(f"{market.url}{receipt_url}", timeout=10)
    assert pdf.status_code == 200 and pdf.headers["Content-Type"] == "application/pdf"
    text = "".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf.content)).pages)
    assert "Pair of silver candlesticks" in text and "4242" in text
    assert "4242424242424242" not in text
    assert market.client(BOB).session.get(f"{market.url}{receipt_url}",
                                          timeout=10).status_code == 403
    assert market.client(ADMIN).session.get(f"{market.url}{receipt_url}",
                                            timeout=10).status_code == 200


def test_the_buyer_is_emailed_the_receipt(market: Marketplace) -> None:
    win = market.win(22, 9_900)
    market.pay(market.start(win)["payment_session_id"])
    market.client().run_jobs()
    receipts = [mail for mail in market.mailer.sent if mail[0] == ALICE.email]
    assert receipts, market.mailer.sent
    assert any(name.endswith(".pdf") for _, _, _, files in receipts for name, _, _ in files)


def test_the_return_page_reads_stripe_before_showing_the_status(market: Marketplace) -> None:
    win = market.win(23, 30_000)
    started = market.start(win)
    session = market.session(started["payment_session_id"])
    assert session.checkout_session_id is not None
    market.sandbox.complete(session.checkout_session_id)  # paid, webhooks not delivered yet

    back = market.client(ALICE).follow_return(session.checkout_session_id)
    assert back.status_code == 303
    assert back.headers["Location"] == f"/payments/sessions/{session.id}"
    assert market.status(session.id)["status"] in ("processing", "succeeded")
    market.sandbox.drain()
    assert market.status(session.id)["status"] == "succeeded"
    assert len(market.orders(win)) == 1 and len(market.transactions(win)) == 1


def test_a_high_value_payment_is_authenticated_with_3d_secure(market: Marketplace) -> None:
    win = market.win(24, 250_000)  # above the $500 threshold: 3-D Secure is requested
    started = market.start(win)
    checkout = market.sandbox.sdk.v1.checkout.sessions.retrieve(
        str(market.session(started["payment_session_id"]).checkout_session_id))
    assert checkout.payment_method_options.card.request_three_d_secure == "any"

    outcome = market.pay(started["payment_session_id"], "pm_card_threeDSecure2Required",
                         three_d_secure="authenticate")
    assert outcome["status"] == "paid"
    [txn] = market.transactions(win)
    assert txn.three_d_secure_result == "authenticated"
    assert "high_value_unauthenticated" not in txn.review_flags
    assert market.status(started["payment_session_id"])["status"] == "succeeded"


def test_a_card_from_another_country_puts_the_payment_in_the_review_queue(
        market: Marketplace) -> None:
    win = market.win(27, 250_000)
    started = market.start(win)
    market.pay(started["payment_session_id"], "pm_card_threeDSecure2Required")  # issued in IE
    [txn] = market.transactions(win)
    assert (txn.review_status, txn.review_flags) == ("pending", ("country_mismatch",))
    assert [queued.id for queued in market.repo.review_queue()] == [txn.id]
    assert [alert.kind for alert in market.repo.list_alerts()] == ["review_needed"]


def test_a_failed_3d_secure_authentication_fails_the_attempt(market: Marketplace) -> None:
    win = market.win(25, 250_000)
    started = market.start(win)
    outcome = market.pay(started["payment_session_id"], "pm_card_threeDSecure2Required",
                         three_d_secure="fail")
    assert outcome["status"] != "paid"
    status = market.status(started["payment_session_id"])
    assert status["status"] == "failed"
    assert status["failure_reason"].startswith("Your bank could not authenticate the payment")
    assert market.orders(win) == [] and market.transactions(win) == []


def test_only_the_winner_can_pay(market: Marketplace) -> None:
    win = market.win(26, 5_000)
    answer = market.client(BOB).create_checkout(win.id)
    assert answer.status_code == 403
    assert answer.json()["error"]["code"] == "not_winner"
