"""Steps every area shares: who won what, signing in, paying on Stripe's page, moving
time, and what the buyer then sees. The browser drives what a buyer would do; Stripe's
side (the sandbox) and the service's records are read only to check outcomes."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect
from pytest_bdd import given, parsers, then, when

from harness.clock import HarnessClock
from harness.data import Buyer, DataBuilder
from harness.marketplace import Marketplace, WonLot
from harness.pages.checkout import CardDetails, CheckoutPage
from harness.pages.service import ServicePages
from harness.steps.phrases import phrase

# Statuses as a buyer reads them on the payment page, by the page's data-status.
STATUS = {"paid": "succeeded", "failed": "failed", "expired": "expired",
          "canceled": "canceled", "open": "open", "being confirmed": "processing"}


def dollars(text: str) -> int:
    return round(float(text.replace("$", "").replace(",", "")) * 100)


# == who won what ===========================================================================
@given(phrase('{name:Name} has won lot {number:d} for {amount}'), target_fixture="won")
@given(parsers.parse('a buyer "{name}" has won lot {number:d} for {amount}'),
       target_fixture="won")
def buyer_won_lot(marketplace: Marketplace, stripe_data: DataBuilder, name: str,
                  number: int, amount: str) -> WonLot:
    buyer = marketplace.add_buyer(stripe_data.buyer(name.strip('"')))
    return marketplace.record_win(buyer, stripe_data.lot(dollars(amount), number=number))


@given(parsers.parse("a buyer has won a lot for {amount}"), target_fixture="won")
def a_buyer_won_a_lot(marketplace: Marketplace, stripe_data: DataBuilder,
                      amount: str) -> WonLot:
    buyer = marketplace.add_buyer(stripe_data.buyer())
    return marketplace.record_win(buyer, stripe_data.lot(dollars(amount)))


@given("a buyer has won a lot under $500", target_fixture="won")
def a_buyer_won_a_cheap_lot(marketplace: Marketplace, stripe_data: DataBuilder) -> WonLot:
    buyer = marketplace.add_buyer(stripe_data.buyer())
    return marketplace.record_win(buyer, stripe_data.lot(stripe_data.amount_under_threshold()))


@given("a buyer has won a lot over $500", target_fixture="won")
def a_buyer_won_a_dear_lot(marketplace: Marketplace, stripe_data: DataBuilder) -> WonLot:
    buyer = marketplace.add_buyer(stripe_data.buyer())
    return marketplace.record_win(buyer, stripe_data.lot(stripe_data.amount_over_threshold()))


@given(parsers.parse("another buyer has won lot {number:d}"), target_fixture="other_won")
def another_buyer_won(marketplace: Marketplace, stripe_data: DataBuilder,
                      number: int) -> WonLot:
    buyer = marketplace.add_buyer(stripe_data.buyer())
    return marketplace.record_win(buyer, stripe_data.lot(number=number))


# == the buyer in the browser ===============================================================
@pytest.fixture
def pages(page: Page, marketplace: Marketplace, stripe_clock: HarnessClock) -> ServicePages:
    page.set_default_timeout(20_000)
    stripe_clock.attach(page)
    return ServicePages(page, marketplace.url)


@given("the buyer is signed in")
@when("the buyer signs in")
def buyer_signs_in(pages: ServicePages, won: WonLot) -> None:
    pages.sign_in_as(won.buyer)


@when(phrase("the buyer pays for the lot with {card:Card}"))
@when(phrase("the buyer pays with {card:Card}"))
def buyer_pays(pages: ServicePages, won: WonLot, card: CardDetails) -> None:
    open_checkout(pages, won)
    CheckoutPage(pages.page).pay(card, email=won.buyer.email)


def open_checkout(pages: ServicePages, won: WonLot) -> CheckoutPage:
    """From "My winnings", press Pay (or continue an attempt): Stripe's page opens."""
    if not pages.winnings.by_testid("winnings-page").count():
        pages.winnings.open()
    pages.winnings.pay(won.lot.number)
    checkout = CheckoutPage(pages.page)
    checkout.wait_until_ready()
    return checkout


@when("the buyer opens the lot's payment")
def buyer_opens_payment(pages: ServicePages, won: WonLot) -> None:
    pages.winnings.open()
    pages.winnings.open_payment(won.lot.number)


# == Stripe's page ==========================================================================
@when("the buyer completes the authentication")
def buyer_completes_3ds(pages: ServicePages) -> None:
    CheckoutPage(pages.page).complete_challenge()


@when("the buyer fails the authentication")
def buyer_fails_3ds(pages: ServicePages) -> None:
    CheckoutPage(pages.page).fail_challenge()


@then(parsers.parse('Stripe\'s page says "{message}"'))
def checkout_says(pages: ServicePages, message: str) -> None:
    assert message in CheckoutPage(pages.page).payment_error()


@when(phrase("the buyer tries {card:Card} on the same Stripe page"))
def buyer_tries_on_same_page(pages: ServicePages, won: WonLot, card: CardDetails) -> None:
    """Another card in the same attempt: Checkout stays open after a decline.

    https://docs.stripe.com/payments/checkout"""
    CheckoutPage(pages.page).pay(card, email=won.buyer.email)


# == the marketplace's payment page =========================================================
@when(phrase("the buyer tries again with {card:Card}"))
def buyer_tries_again(pages: ServicePages, won: WonLot, card: CardDetails) -> None:
    """A new attempt from the payment page's "Try again", on a new Checkout page, ending
    back on the marketplace. The button appears once the failure has reached the
    marketplace (the page reloads itself when it does)."""
    pages.payment.wait_for_status("failed")
    pages.payment.retry()
    checkout = CheckoutPage(pages.page)
    checkout.wait_until_ready()
    checkout.pay(card, email=won.buyer.email)
    pages.payment.wait_until_shown()


@then(parsers.parse('the payment page says "{reason}"'))
def payment_page_says(pages: ServicePages, reason: str) -> None:
    assert pages.payment.failure_reason() == reason


@then(parsers.parse("the buyer has {count:d} attempts left"))
@then(parsers.parse("the buyer has {count:d} attempt left"))
def attempts_left(pages: ServicePages, count: int) -> None:
    assert pages.payment.can_retry()
    assert pages.payment.attempts_left() == count


@then(parsers.parse('the buyer is told "{message}"'))
def buyer_is_told(pages: ServicePages, message: str) -> None:
    """The marketplace's error page, in the words a buyer reads."""
    _, shown = pages.winnings.error()
    assert shown == message


@then("no Checkout Session was created for the lot")
def no_checkout_session(marketplace: Marketplace, won: WonLot) -> None:
    assert [s for s in marketplace.payment_sessions(won) if s.reached_stripe] == []


# == outcomes ===============================================================================
@then(parsers.parse("the buyer sees the payment {state}"))
def buyer_sees_state(pages: ServicePages, marketplace: Marketplace, won: WonLot,
                     state: str) -> None:
    pages.page.wait_for_url(f"{marketplace.url}/payments/sessions/*")
    pages.payment.wait_for_status(STATUS[state])


@then("the lot is paid")
def lot_is_paid(marketplace: Marketplace, won: WonLot) -> None:
    orders = marketplace.orders(won)
    assert [o.status for o in orders] == ["paid"], orders
    assert len(marketplace.transactions(won)) == 1


@then("exactly one order exists for the lot")
def one_order(marketplace: Marketplace, won: WonLot) -> None:
    assert len(marketplace.orders(won)) == 1
    assert len(marketplace.transactions(won)) <= 1


@then("no order exists for the lot")
def no_order(marketplace: Marketplace, won: WonLot) -> None:
    assert [o for o in marketplace.orders(won) if o.status == "paid"] == []


@then(phrase("the order is {status:OrderStatus}"))
def order_status(marketplace: Marketplace, won: WonLot, status: str) -> None:
    orders = marketplace.orders(won)
    assert [o.status for o in orders] == [status], orders


# == time ===================================================================================
@when(phrase("{duration:Duration} pass"))
@when(phrase("{duration:Duration} passes"))
@given(phrase("{duration:Duration} have passed"))
def time_passes(stripe_clock: HarnessClock, marketplace: Marketplace, duration: int) -> None:
    stripe_clock.advance(duration)
    marketplace.run_jobs()


def buyer_of(won: WonLot) -> Buyer:
    return won.buyer


def expect_text(page: Page, testid: str, text: str) -> Any:
    return expect(page.get_by_test_id(testid)).to_contain_text(text)
