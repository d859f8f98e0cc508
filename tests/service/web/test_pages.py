"""The buyer's pages: my winnings, pay, the return from Stripe, status, receipt."""

from __future__ import annotations

import hashlib
import re

from flask import Flask
from flask.testing import FlaskClient
from web_support import (
    ADMIN,
    ALICE,
    BOB,
    LOT_17,
    FakePaymentService,
    csrf,
    payment_session,
    status_view,
)

from simulator.service.adapters.receipts import ReceiptStore
from simulator.service.adapters.repositories import Repository
from simulator.service.config import ServiceConfig
from simulator.service.domain.order import Order
from simulator.service.domain.user import User
from simulator.service.payments import PaymentRefused
from simulator.service.web.receipt_links import receipt_url


def winning_row(page: str, lot: int) -> str:
    match = re.search(rf'<tr data-testid="winning"[^>]*data-lot="{lot}".*?</tr>', page, re.S)
    assert match, f"lot {lot} not listed"
    return match.group(0)


def test_my_winnings_lists_each_win_with_time_left_and_a_pay_button(alice: FlaskClient) -> None:
    page = alice.get("/payments/winnings").text
    open_row = winning_row(page, 17)
    assert "Brass carriage clock" in open_row and "$642.00" in open_row
    assert f'data-deadline="{LOT_17.ended_at + 86_400}"' in open_row
    assert ">23h 0m 0s<" in open_row
    assert 'data-testid="pay-button"' in open_row and "Pay $642.00" in open_row
    closed_row = winning_row(page, 18)
    assert 'data-state="closed"' in closed_row and "Window closed" in closed_row
    assert 'data-testid="pay-button"' not in closed_row


def test_my_winnings_shows_failed_and_paid_wins(alice: FlaskClient, repo: Repository,
                                               config: ServiceConfig) -> None:
    with repo.transaction():
        repo.add_payment_session(payment_session(status="failed", failure_code="card_declined",
                                                 failure_reason="Your card was declined."))
    failed = winning_row(alice.get("/payments/winnings").text, 17)
    assert 'data-state="failed"' in failed and "3 attempts left" in failed
    assert 'href="/payments/sessions/ps_win_17_1"' in failed

    with repo.transaction():
        repo.save_payment_session(payment_session(status="succeeded"))
        repo.add_order(Order("ord_17", LOT_17.id, ALICE.id, "paid", 1, 1, None, "r.pdf"))
    paid = winning_row(alice.get("/payments/winnings").text, 17)
    assert 'data-state="paid"' in paid and 'data-testid="pay-button"' not in paid
    assert 'href="/payments/receipts/ord_17.pdf?sig=' in paid  # a signed link
    assert "data-deadline" not in paid and 'data-testid="winning-settled"' in paid  # no timer


def test_pay_redirects_to_stripe_checkout(alice: FlaskClient,
                                          service: FakePaymentService) -> None:
    answer = alice.post("/payments/winnings/win_17/pay", data={"csrf_token": csrf(alice)})
    assert answer.status_code == 303
    assert answer.headers["Location"] == payment_session().checkout_url
    assert service.called("start_checkout") == [(ALICE.id, "win_17")]


def test_a_refused_payment_shows_the_reason_as_a_page(alice: FlaskClient,
                                                      service: FakePaymentService) -> None:
    service.raises["start_checkout"] = PaymentRefused(
        "window_closed", 410, "The 24-hour payment window for this lot has closed.")
    answer = alice.post("/payments/winnings/win_17/pay", data={"csrf_token": csrf(alice)})
    assert answer.status_code == 410
    assert answer.mimetype == "text/html"
    assert 'data-code="window_closed"' in answer.text
    assert "The 24-hour payment window for this lot has closed." in answer.text


def test_the_return_from_stripe_confirms_then_shows_the_status_page(
        alice: FlaskClient, service: FakePaymentService) -> None:
    answer = alice.get("/payments/return?session_id=cs_test_win_17_1")
    assert answer.status_code == 303
    assert answer.headers["Location"] == "/payments/sessions/ps_win_17_1"
    assert service.called("confirm_return") == [("cs_test_win_17_1", ALICE.id)]


def test_the_return_needs_a_checkout_session(alice: FlaskClient,
                                             service: FakePaymentService) -> None:
    assert alice.get("/payments/return").status_code == 400
    assert alice.get("/payments/return?session_id=pi_123").status_code == 400
    assert service.calls == []


def test_the_cancel_url_goes_back_to_the_payment(alice: FlaskClient) -> None:
    answer = alice.get("/payments/cancel?payment_session_id=ps_win_17_1")
    assert answer.headers["Location"] == "/payments/sessions/ps_win_17_1"


def test_the_status_page_of_a_failed_payment_offers_a_retry(
        alice: FlaskClient, service: FakePaymentService) -> None:
    failed = payment_session(status="failed", failure_reason="Your card has insufficient funds."
                             " Try another card or contact your bank.")
    service.view = status_view(failed, attempts_used=1, attempts_left=3, checkout_url=None)
    page = alice.get("/payments/sessions/ps_win_17_1").text
    assert 'data-testid="payment-status" data-status="failed"' in page
    assert "Your card has insufficient funds." in page
    assert re.search(r'data-testid="attempts-used">1<', page)
    assert re.search(r'data-testid="attempts-left">3<', page)
    assert 'data-testid="retry-button"' in page
    assert "Lot 17: Brass carriage clock" in page


def test_no_retry_once_the_attempts_are_used_up(alice: FlaskClient,
                                                service: FakePaymentService) -> None:
    service.view = status_view(payment_session(attempt=4, status="failed"), attempts_left=0)
    assert 'data-testid="retry-button"' not in alice.get("/payments/sessions/ps_1").text


def test_an_open_payment_links_to_checkout_and_polls(alice: FlaskClient) -> None:
    page = alice.get("/payments/sessions/ps_win_17_1").text
    assert 'data-testid="continue-payment"' in page
    assert 'data-poll-url="/payments/checkout/ps_win_17_1/status"' in page


def test_a_paid_payment_links_its_receipt(alice: FlaskClient,
                                          service: FakePaymentService) -> None:
    service.view = status_view(payment_session(status="succeeded"), checkout_url=None,
                               receipt_url="/payments/receipts/ord_17.pdf", order_id="ord_17")
    page = alice.get("/payments/sessions/ps_win_17_1").text
    assert 'href="/payments/receipts/ord_17.pdf?sig=' in page
    assert "data-poll-url" not in page
    assert 'data-testid="window-countdown"' not in page  # nothing left to pay
    assert 'data-testid="attempts-left"' not in page


def test_retry_from_the_status_page_goes_to_the_new_checkout(
        alice: FlaskClient, service: FakePaymentService) -> None:
    answer = alice.post("/payments/sessions/ps_win_17_1/retry", data={"csrf_token": csrf(alice)})
    assert answer.status_code == 303
    assert answer.headers["Location"].startswith("https://checkout.example.test/")
    assert service.called("retry") == [(ALICE.id, "ps_win_17_1")]


def _paid_order_with_receipt(repo: Repository, config: ServiceConfig) -> None:
    pdf = b"%PDF-1.4 receipt"
    with repo.transaction():
        repo.add_payment_session(payment_session(status="succeeded"))
        path = ReceiptStore(config.receipts_dir, repo.cipher).save("ord_17", pdf)
        repo.add_order(Order("ord_17", LOT_17.id, ALICE.id, "paid", 1, 1, None, path,
                             hashlib.sha256(pdf).hexdigest()))


def link(app: Flask, user: User, order_id: str = "ord_17") -> str:
    """The signed link the service's pages give ``user``."""
    with app.test_request_context():
        return receipt_url(order_id, user.id)


def test_the_buyer_downloads_their_receipt(app: Flask, alice: FlaskClient, repo: Repository,
                                           config: ServiceConfig) -> None:
    _paid_order_with_receipt(repo, config)
    answer = alice.get(link(app, ALICE))
    assert answer.status_code == 200
    assert answer.mimetype == "application/pdf"
    assert answer.data == b"%PDF-1.4 receipt"
    assert answer.headers["Content-Disposition"] == 'attachment; filename="receipt-ord_17.pdf"'


def test_receipts_are_for_their_buyer_or_an_admin(app: Flask, bob: FlaskClient,
                                                  admin: FlaskClient, anonymous: FlaskClient,
                                                  repo: Repository,
                                                  config: ServiceConfig) -> None:
    _paid_order_with_receipt(repo, config)
    assert bob.get(link(app, BOB)).status_code == 403
    assert admin.get(link(app, ADMIN)).status_code == 200
    assert anonymous.get(link(app, ALICE)).status_code == 302
    assert admin.get(link(app, ADMIN, "ord_404")).status_code == 404


def test_a_receipt_not_made_yet_is_404(app: Flask, alice: FlaskClient,
                                       repo: Repository) -> None:
    with repo.transaction():
        repo.add_order(Order("ord_17", LOT_17.id, ALICE.id, "paid", 1, 1))
    answer = alice.get(link(app, ALICE))
    assert answer.status_code == 404
    assert "The receipt is not ready yet." in answer.text


def test_pages_load_their_styles_and_scripts(app: Flask, alice: FlaskClient) -> None:
    for asset in ("service.css", "countdown.js", "status.js"):
        assert alice.get(f"/payments/static/{asset}").status_code == 200
    assert 'data-server-now="1750000000"' in alice.get("/payments/winnings").text
