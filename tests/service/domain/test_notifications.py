from __future__ import annotations

from simulator.service.domain.auction import AuctionWin
from simulator.service.domain.notification import receipt_mail, reminder_mail, window_closed_mail
from simulator.service.domain.transaction import Transaction
from simulator.service.domain.user import User

BUYER = User("usr_1", "Grace Hopper", "grace@example.com", "buyer", "tok_1", "US")
WIN = AuctionWin("win_1", 17, "Art deco bronze table lamp", "sel_1", "usr_1", 64200, "usd", 0)
TXN = Transaction("txn_1", "ps_1", "win_1", 64200, 1892, 62308, "usd", "succeeded", "visa",
                  "4242", "authenticated", "normal", 20, "ch_1", "pi_1", 0)


def test_the_receipt_mail_names_the_card_by_brand_and_last4() -> None:
    mail = receipt_mail(BUYER, WIN, TXN, "ord_1", "Lot & Hammer Auctions")
    assert (mail.to, mail.subject, mail.receipt_order_id) == (
        "grace@example.com", "Your receipt for lot 17", "ord_1")
    assert "$642.00" in mail.text and "Lot 17: Art deco bronze table lamp" in mail.text
    assert "Visa ending 4242" in mail.text
    assert mail.dedupe_key == "receipt:ord_1"


def test_the_reminder_carries_the_link_and_the_time_left() -> None:
    mail = reminder_mail(BUYER, WIN, "https://checkout.stripe.com/c/pay/cs_1", 5 * 3600 + 120,
                         2, "Lot & Hammer Auctions")
    assert "https://checkout.stripe.com/c/pay/cs_1" in mail.text
    assert "5 h 02 min left" in mail.text


def test_the_window_closed_mail() -> None:
    mail = window_closed_mail(BUYER, WIN, "Lot & Hammer Auctions")
    assert mail.subject == "Payment window closed for lot 17"
    assert "canceled" in mail.text and mail.dedupe_key == "window_closed:win_1"
