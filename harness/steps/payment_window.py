"""The 24-hour payment window: paying in its last second, being refused a second after,
the order canceled and the buyer told by mail, in the buyer's own time zone.

The one clock moves in whole seconds while real time keeps flowing, so "a second before
the window closes" places the buyer's last click with one to two seconds left; the
Then steps check at Stripe and in the service's records that it really happened then.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

import pytest
from playwright.sync_api import expect
from pytest_bdd import given, parsers, then, when

from harness.clock import HarnessClock
from harness.data import THREE_D_SECURE_ABOVE
from harness.marketplace import Marketplace, WonLot
from harness.pages.checkout import CheckoutPage
from harness.pages.service import ServicePages
from harness.steps.cards import card
from harness.steps.common import open_checkout

WINDOW_SECONDS = 24 * 3600  # the product rule: 24 hours from the auction's end
WINDOW_CLOSED_SUBJECT = "Payment window closed for lot {lot}"
EXPIRED_ON_STRIPE = "expired"  # the state of Stripe's page for a closed session
WINDOW_CLOSED_REASON = "the 24-hour payment window has closed"
LAST_SECONDS = re.compile(r"^[12]s$")  # the countdown a second before the end


@dataclass(frozen=True)
class WindowPayment:
    """What the buyer saw before paying at the window's edge."""

    deadline_shown: int
    seconds_left_shown: int
    browser_zone: str
    bank_asked: bool
    clock_at_click: float


# == time ===================================================================================
def closes_at(won: WonLot) -> int:
    return won.ended_at + WINDOW_SECONDS


def move_clock_to(stripe_clock: HarnessClock, at: float) -> float:
    """Move the one clock so that it reads between ``at`` and ``at + 1`` (it moves in whole
    seconds); the time it reads after the move."""
    seconds = math.ceil(at - stripe_clock.now())
    return stripe_clock.advance(seconds) if seconds > 0 else stripe_clock.now()


@when("the payment window is a second from closing")
def window_a_second_from_closing(stripe_clock: HarnessClock, won: WonLot) -> None:
    move_clock_to(stripe_clock, closes_at(won) - 2)


@when("the payment window has been closed for a second")
def window_closed_a_second_ago(stripe_clock: HarnessClock, marketplace: Marketplace,
                               won: WonLot) -> None:
    move_clock_to(stripe_clock, closes_at(won) + 1)
    marketplace.run_jobs()


# == the buyer's time zone ==================================================================
@pytest.fixture
def buyer_time_zone() -> str | None:
    """The IANA zone of the buyer's browser; None keeps the browser's default."""
    return None


@pytest.fixture
def browser_context_args(browser_context_args: dict[str, Any],
                         buyer_time_zone: str | None) -> dict[str, Any]:
    """pytest-playwright's context options, with the buyer's time zone (Playwright's
    ``timezone_id``). Read when the buyer's page is first opened, so the Given that sets
    the zone must come before the buyer signs in."""
    if buyer_time_zone is None:
        return browser_context_args
    return {**browser_context_args, "timezone_id": buyer_time_zone}


@given(parsers.parse("the buyer's browser is set to {zone} time"),
       target_fixture="buyer_time_zone")
def buyer_browser_zone(zone: str) -> str:
    return zone


def browser_zone(pages: ServicePages) -> str:
    zone: str = pages.page.evaluate("Intl.DateTimeFormat().resolvedOptions().timeZone")
    return zone


# == paying at the edge of the window =======================================================
@when("the buyer pays by Visa a second before the payment window closes",
      target_fixture="window_payment")
def pay_a_second_before_close(pages: ServicePages, stripe_clock: HarnessClock,
                              won: WonLot) -> WindowPayment:
    """Open Stripe's page and fill the card in; above $500 submit it and wait for the
    bank's challenge. Then the clock moves to the window's last seconds and the buyer
    makes the last click: Pay, or the bank's Complete."""
    pages.winnings.open()
    countdown = pages.winnings.winning(won.lot.number).get_by_test_id("winning-countdown")
    deadline = int(countdown.get_attribute("data-deadline") or 0)
    seconds_left = pages.winnings.seconds_left(won.lot.number)
    zone = browser_zone(pages)
    checkout = open_checkout(pages, won)
    checkout.fill_card(card("a Visa card"), email=won.buyer.email)
    bank_asked = won.lot.amount > THREE_D_SECURE_ABOVE
    if bank_asked:
        checkout.submit()
        checkout.challenge()
    at = move_clock_to(stripe_clock, closes_at(won) - 2)
    if bank_asked:
        checkout.complete_challenge()
    else:
        checkout.submit()
    return WindowPayment(deadline, seconds_left, zone, bank_asked, at)


@then("Stripe charged the card in the window's last 2 seconds")
def charged_in_last_seconds(marketplace: Marketplace, won: WonLot,
                            window_payment: WindowPayment) -> None:
    assert marketplace.sandbox is not None
    [txn] = marketplace.transactions(won)
    charge = marketplace.sandbox.sdk.v1.charges.retrieve(str(txn.charge_id))
    assert closes_at(won) - 2 <= charge.created < closes_at(won), (
        charge.created, closes_at(won), window_payment.clock_at_click)


@then(parsers.parse("the bank's check was {result}"))
def bank_check(marketplace: Marketplace, won: WonLot, window_payment: WindowPayment,
               result: str) -> None:
    [txn] = marketplace.transactions(won)
    expected = None if result == "not requested" else result
    assert txn.three_d_secure_result == expected, txn
    assert window_payment.bank_asked == (expected is not None)


@then("the buyer's winnings counted down to 24 hours after the auction ended")
def deadline_is_one_instant(won: WonLot, window_payment: WindowPayment,
                            buyer_time_zone: str | None) -> None:
    """The same instant in every zone: the deadline the page counts down to is the
    auction's end plus 24 hours, and so is what its countdown showed."""
    assert window_payment.browser_zone == buyer_time_zone
    assert window_payment.deadline_shown == closes_at(won)
    assert WINDOW_SECONDS - 120 <= window_payment.seconds_left_shown <= WINDOW_SECONDS - 59, (
        window_payment.seconds_left_shown)


# == a second too late ======================================================================
@when("the buyer opens Stripe's payment page a second before the payment window closes")
def open_checkout_a_second_before(pages: ServicePages, stripe_clock: HarnessClock,
                                  marketplace: Marketplace, won: WonLot) -> None:
    pages.winnings.open()
    move_clock_to(stripe_clock, closes_at(won) - 2)
    pages.winnings.pay(won.lot.number)
    CheckoutPage(pages.page).wait_until_ready()
    [session] = marketplace.payment_sessions(won)
    assert closes_at(won) - 2 <= session.created_at < closes_at(won), session


@when("the buyer submits a Visa card on Stripe's page")
def submit_visa(pages: ServicePages, won: WonLot) -> None:
    CheckoutPage(pages.page).pay(card("a Visa card"), email=won.buyer.email)


@then("Stripe's page says the payment session has expired")
def stripe_page_expired(pages: ServicePages) -> None:
    expect(pages.page.get_by_test_id("checkout-message")).to_have_attribute(
        "data-state", EXPIRED_ON_STRIPE)


@then("back at the marketplace the buyer is told the payment window has closed")
def told_window_closed(pages: ServicePages, marketplace: Marketplace, won: WonLot) -> None:
    pages.page.get_by_role("link", name="Return to the merchant").click()
    pages.payment.wait_until_shown()
    pages.payment.wait_for_status("expired")
    assert WINDOW_CLOSED_REASON in (pages.payment.failure_reason() or "")
    assert not pages.payment.can_retry()
    expect(pages.payment.by_testid("window-countdown")).to_have_text("Window closed")
    assert marketplace.transactions(won) == []


# == the page left open =====================================================================
@given("the buyer is looking at their winnings")
def looking_at_winnings(pages: ServicePages, won: WonLot) -> None:
    pages.winnings.open()
    expect(pages.winnings.winning(won.lot.number)).to_be_visible()


@then("the buyer can still press Pay")
def can_still_pay(pages: ServicePages, won: WonLot) -> None:
    row = pages.winnings.winning(won.lot.number)
    expect(row.get_by_test_id("winning-countdown")).to_have_text(LAST_SECONDS)
    assert pages.winnings.can_pay(won.lot.number)


@then("the buyer's page shows the window closed and Pay can no longer be pressed")
def open_page_closed(pages: ServicePages, won: WonLot) -> None:
    row = pages.winnings.winning(won.lot.number)
    expect(row.get_by_test_id("winning-countdown")).to_have_text("Window closed")
    expect(row.get_by_test_id("pay-button")).to_be_disabled()


@then("coming back later the buyer sees the window closed and no Pay button")
def reopened_page_closed(pages: ServicePages, won: WonLot) -> None:
    pages.winnings.open()
    assert pages.winnings.state(won.lot.number) == "closed"
    assert pages.winnings.status(won.lot.number) == "Window closed"
    assert not pages.winnings.can_pay(won.lot.number)


@when("the buyer's browser sends the Pay form anyway")
def send_stale_pay_form(pages: ServicePages, won: WonLot) -> None:
    """What a page whose countdown has not caught up (a sleeping tab, no JavaScript)
    sends: the Pay form as it was rendered before the window closed."""
    form = pages.winnings.winning(won.lot.number).locator("form")
    with pages.page.expect_navigation():
        form.evaluate("form => form.submit()")


# == mail ===================================================================================
@then("the buyer receives a mail saying the payment window for the lot closed")
def window_closed_mail(marketplace: Marketplace, won: WonLot) -> None:
    subject = WINDOW_CLOSED_SUBJECT.format(lot=won.lot.number)
    message = marketplace.mail.mailbox.wait_for(won.buyer.email, subject)
    text = message.get_body(preferencelist=("plain",))
    assert text is not None and "order was canceled" in text.get_content()


@then("the mail was written when the window closed")
def mail_written_at_close(marketplace: Marketplace, won: WonLot) -> None:
    subject = WINDOW_CLOSED_SUBJECT.format(lot=won.lot.number)
    [row] = [r for r in marketplace.mail_to(won.buyer) if r["subject"] == subject]
    assert row["status"] == "sent", row
    assert closes_at(won) <= row["created_at"] <= closes_at(won) + 1, row


@then("the buyer got no mail about the payment window closing")
def no_window_closed_mail(marketplace: Marketplace, won: WonLot) -> None:
    subject = WINDOW_CLOSED_SUBJECT.format(lot=won.lot.number)
    assert [r for r in marketplace.mail_to(won.buyer) if r["subject"] == subject] == []
    assert [m for m in marketplace.mail.mailbox.to(won.buyer.email)
            if subject in str(m["Subject"])] == []
