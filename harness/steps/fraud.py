"""Fraud: what Stripe Radar blocks outright, and what the service's rules
(``simulator/service/domain/fraud.py``) hold for an admin's review: Radar's elevated
risk, more than two failed attempts before the payment, a card issued in another
country than the buyer's. A flagged payment still succeeds for the buyer; admins see it
in the review queue and on the alerts page, and clear it there."""

from __future__ import annotations

from pytest_bdd import given, parsers, then, when

from harness.data import Buyer, DataBuilder
from harness.marketplace import Marketplace, WonLot
from harness.pages.service import ServicePages
from harness.steps.cards import card
from harness.steps.common import STATUS, dollars, open_checkout
from harness.steps.orders import admin_pages, admin_user, lot_row  # noqa: F401 (a fixture)
from harness.steps.phrases import phrase
from harness.steps.receipts import wait_until
from simulator.service.domain.transaction import Transaction

COUNTRIES = {"Canada": "CA", "the United Kingdom": "GB", "Germany": "DE",
             "the United States": "US"}
# Why a payment is held, in an admin's words, by the rule's flag code.
REASONS = {"Radar's elevated risk rating": "radar_risk",
           "repeated failed attempts": "many_failed_attempts",
           "a card from another country": "country_mismatch"}
DECLINED = "a card that is declined"


def the_transaction(marketplace: Marketplace, won: WonLot) -> Transaction:
    transactions = marketplace.transactions(won)
    assert len(transactions) == 1, transactions
    return transactions[0]


# == arranging ==============================================================================
@given(phrase("{name:Name} from {country:Name} won lot {number:d} for {amount}"),
       target_fixture="won")
def buyer_from_country_won(marketplace: Marketplace, stripe_data: DataBuilder, name: str,
                           country: str, number: int, amount: str) -> WonLot:
    buyer = marketplace.add_buyer(stripe_data.buyer(name, country=COUNTRIES[country]))
    return marketplace.record_win(buyer, stripe_data.lot(dollars(amount), number=number))


@given(parsers.parse("the buyer's card was declined on {count:d} attempts"))
@when(parsers.parse("the buyer's card is declined on {count:d} attempts"))
def declined_attempts(pages: ServicePages, marketplace: Marketplace, won: WonLot,
                      count: int) -> None:
    """One declined attempt after another, each recorded before the next Pay.

    Each attempt: Pay, a declined card on Stripe's page, back to the service, and the
    failure recorded there (from Stripe's webhook), so the next Pay is a new attempt."""
    for attempt in range(1, count + 1):
        checkout = open_checkout(pages, won)
        checkout.pay(card(DECLINED), email=won.buyer.email)
        checkout.payment_error()
        checkout.go_back()
        pages.page.wait_for_url(f"{marketplace.url}/payments/sessions/*")
        pages.payment.wait_for_status(STATUS["failed"])
        assert pages.payment.attempts_used() == attempt


# == the buyer ==============================================================================
@then("the buyer has no payment attempts left")
def no_attempts_left(pages: ServicePages, won: WonLot) -> None:
    assert pages.payment.attempts_left() == 0
    assert not pages.payment.can_retry()
    pages.winnings.open()
    assert "0 attempts left" in pages.winnings.status(won.lot.number)
    assert not pages.winnings.can_pay(won.lot.number)


@then("Stripe recorded the attempt as blocked by Radar")
def stripe_blocked_it(marketplace: Marketplace, won: WonLot) -> None:
    """The service learns the block from Stripe's ``payment_intent.payment_failed``."""
    wait_until(lambda: [s.failure_code for s in marketplace.payment_sessions(won)]
               == ["fraudulent"], "the service to record Radar's block")
    sandbox = marketplace.sandbox
    if sandbox is None:
        return
    (session,) = marketplace.payment_sessions(won)
    intent = sandbox.sdk.v1.payment_intents.retrieve(
        str(session.payment_intent_id), params={"expand": ["latest_charge"]})
    charge = intent.latest_charge
    assert charge is not None and not isinstance(charge, str)
    assert charge.outcome is not None
    assert (charge.outcome.type, charge.outcome.risk_level) == ("blocked", "highest")


# == the admin ==============================================================================
@then(parsers.parse("the payment is held for an admin's review, flagged for {reason}"))
def payment_held_for_review(pages: ServicePages, marketplace: Marketplace, admin: Buyer,
                            won: WonLot, reason: str) -> None:
    txn = the_transaction(marketplace, won)
    assert txn.review_status == "pending" and REASONS[reason] in txn.review_flags, txn
    reviews = admin_pages(pages, admin, "reviews")
    (row,) = lot_row(reviews.rows(), won.lot.number)
    assert row["id"] == txn.id, row
    assert f"({REASONS[reason]}):" in row["flags"], row  # "Review (code): reason"
    assert pages.admin.open("index").stat("reviews") == 1


@when("an admin clears the payment in the review queue")
def admin_clears_review(pages: ServicePages, marketplace: Marketplace, admin: Buyer,
                        won: WonLot) -> None:
    txn = the_transaction(marketplace, won)
    reviews = admin_pages(pages, admin, "reviews")
    reviews.row(txn.id).get_by_test_id("action-clear").click()
    pages.page.wait_for_load_state()
    reviews.by_testid("admin-reviews-page").wait_for()


@then("the payment is cleared and leaves the review queue")
def payment_cleared(pages: ServicePages, marketplace: Marketplace, won: WonLot) -> None:
    txn = the_transaction(marketplace, won)
    assert txn.review_status == "cleared", txn
    assert lot_row(pages.admin.open("reviews").rows(), won.lot.number) == []
    assert pages.admin.open("transactions").cell(txn.id, "review") == "cleared"
    assert pages.admin.open("index").stat("reviews") == 0


@then(parsers.parse('the admins see an alert that the payment for lot {number:d} needs'
                    ' review: "{reason}"'))
def admins_see_review_alert(pages: ServicePages, marketplace: Marketplace, admin: Buyer,
                            won: WonLot, number: int, reason: str) -> None:
    txn = the_transaction(marketplace, won)
    rows = admin_pages(pages, admin, "alerts").rows()
    about = [row for row in rows if row["kind"] == "review_needed"]
    assert len(about) == 1, rows
    assert about[0]["message"] == (
        f"Payment {txn.id} for lot {number} needs review: {reason}"), about
    assert (about[0]["severity"], about[0]["subject"]) == ("warning", txn.id), about


@then("the admins see no alert and nothing waits for review")
def no_alert_no_review(pages: ServicePages, marketplace: Marketplace, admin: Buyer,
                       won: WonLot) -> None:
    assert the_transaction(marketplace, won).review_status == "none"
    assert admin_pages(pages, admin, "alerts").rows() == []
    assert pages.admin.open("reviews").rows() == []
    assert marketplace.alerts() == []
