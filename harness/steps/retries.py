"""Retries and reminders: trying again after a declined card, the limit of 1 + 3
attempts, and the reminder mails at 1 h, 6 h and 18 h after a failure (none once the
lot is paid, every attempt is used, or the window has closed)."""

from __future__ import annotations

import re
from email.message import EmailMessage
from typing import Any

from pytest_bdd import given, parsers, then, when

from harness.data import DataBuilder
from harness.marketplace import Marketplace, WonLot
from harness.pages.checkout import CardDetails, CheckoutPage
from harness.pages.service import ServicePages
from harness.steps.cards import card
from harness.steps.common import dollars, open_checkout
from harness.steps.payment_window import closes_at
from harness.steps.phrases import phrase
from simulator.service.domain.payment_session import PaymentSession

HOUR = 3600
MAX_RETRIES = 3  # the configured retries: 1 + 3 attempts in all
REMINDER_SUBJECT = "Reminder: complete your payment for lot {lot}"
DECLINED = "a card that is declined"
PAYMENT_LINK = re.compile(r"https?://\S+/c/pay/cs_\w+")
# A reminder is written at its due time, give or take the jump's own work.
REMINDER_TOLERANCE_SECONDS = 2


# == arranging ==============================================================================
@given(phrase("{name:Name} won lot {number:d} for {amount}, {hours:d} hours ago"),
       target_fixture="won")
def buyer_won_hours_ago(marketplace: Marketplace, stripe_data: DataBuilder, name: str,
                        number: int, amount: str, hours: int) -> WonLot:
    buyer = marketplace.add_buyer(stripe_data.buyer(name))
    return marketplace.record_win(buyer, stripe_data.lot(dollars(amount), number=number),
                                  ended_ago=hours * HOUR)


# == failing, in the browser ================================================================
def decline_attempt(pages: ServicePages, marketplace: Marketplace, won: WonLot,
                    first: bool) -> PaymentSession:
    """One attempt paid with a declined card: Pay (or Try again), Stripe's page says no,
    the buyer goes back to the marketplace and sees the failure. The failed attempt."""
    checkout = open_checkout(pages, won) if first else retry_checkout(pages)
    checkout.pay(card(DECLINED), email=won.buyer.email)
    checkout.payment_error()
    checkout.go_back()
    pages.payment.wait_until_shown()
    pages.payment.wait_for_status("failed")
    latest = marketplace.payment_sessions(won)[-1]
    assert latest.status == "failed", latest
    return latest


def retry_checkout(pages: ServicePages) -> CheckoutPage:
    """Try again from the payment page: a new Stripe Checkout page opens."""
    pages.payment.retry()
    checkout = CheckoutPage(pages.page)
    checkout.wait_until_ready()
    return checkout


def decline_every_attempt(pages: ServicePages, marketplace: Marketplace, won: WonLot,
                          retries: int) -> PaymentSession:
    last = decline_attempt(pages, marketplace, won, first=True)
    for _ in range(retries):
        last = decline_attempt(pages, marketplace, won, first=False)
    return last


@given("the buyer's first payment was declined", target_fixture="failure")
def first_payment_declined(pages: ServicePages, marketplace: Marketplace,
                           won: WonLot) -> PaymentSession:
    return decline_attempt(pages, marketplace, won, first=True)


@given("the buyer's card was declined on every allowed attempt", target_fixture="failure")
def declined_every_attempt(pages: ServicePages, marketplace: Marketplace,
                           won: WonLot) -> PaymentSession:
    return decline_every_attempt(pages, marketplace, won, MAX_RETRIES)


@when(parsers.parse("the buyer's card is declined on the first attempt and on each of the"
                    " {retries:d} retries"), target_fixture="failure")
def declined_first_and_retries(pages: ServicePages, marketplace: Marketplace, won: WonLot,
                               retries: int) -> PaymentSession:
    return decline_every_attempt(pages, marketplace, won, retries)


@when("the buyer's failed payment has been recorded", target_fixture="failure")
def failure_recorded(pages: ServicePages, marketplace: Marketplace,
                     won: WonLot) -> PaymentSession:
    """The buyer reads Stripe's decline; meanwhile its webhook reaches the marketplace
    (delivered now when the sandbox is there, else waited for)."""
    CheckoutPage(pages.page).payment_error()
    if marketplace.sandbox is not None:
        marketplace.sandbox.drain()
    for _ in range(100):
        latest = marketplace.payment_sessions(won)[-1]
        if latest.status == "failed":
            return latest
        pages.page.wait_for_timeout(100)  # waiting for a webhook, not moving time
    raise AssertionError(f"the decline was never recorded: {latest}")


# == paying after a failure =================================================================
@when("the buyer opens the payment link in the reminder mail")
def open_reminder_link(pages: ServicePages, marketplace: Marketplace, won: WonLot) -> None:
    subject = REMINDER_SUBJECT.format(lot=won.lot.number)
    message = marketplace.mail.mailbox.wait_for(won.buyer.email, subject)
    [link] = PAYMENT_LINK.findall(plain_text(message))
    pages.page.goto(link)
    CheckoutPage(pages.page).wait_until_ready()


@when(phrase("the buyer pays there with {card:Card}"))
def pay_there(pages: ServicePages, won: WonLot, card: CardDetails) -> None:
    CheckoutPage(pages.page).pay(card, email=won.buyer.email)


# == what the buyer sees ====================================================================
@then(parsers.parse("the payment page shows {used:d} attempts used and none left"))
def attempts_used_up(pages: ServicePages, used: int) -> None:
    assert pages.payment.attempts_used() == used
    assert pages.payment.attempts_left() == 0


@then("the buyer is not offered another try")
def no_retry_offered(pages: ServicePages, marketplace: Marketplace, won: WonLot) -> None:
    pages.page.reload()
    pages.payment.wait_until_shown()
    assert not pages.payment.can_retry()
    assert len([s for s in marketplace.payment_sessions(won) if s.reached_stripe]) == \
        1 + MAX_RETRIES


@then("the buyer's winnings say no attempts are left and offer no Pay button")
def winnings_exhausted(pages: ServicePages, won: WonLot) -> None:
    pages.winnings.open()
    assert pages.winnings.status(won.lot.number) == "Payment failed · 0 attempts left"
    assert not pages.winnings.can_pay(won.lot.number)


@then(parsers.parse("the lot is paid with {count:d} attempt used"))
def paid_with_attempts(marketplace: Marketplace, won: WonLot, count: int) -> None:
    [order] = marketplace.orders(won)
    assert order.status == "paid", order
    reached = [s for s in marketplace.payment_sessions(won) if s.reached_stripe]
    assert [s.status for s in reached] == ["succeeded"] * count, reached


# == reminders ==============================================================================
def reminders(marketplace: Marketplace, won: WonLot) -> list[dict[str, Any]]:
    subject = REMINDER_SUBJECT.format(lot=won.lot.number)
    return [row for row in marketplace.mail_to(won.buyer) if row["subject"] == subject]


def plain_text(message: EmailMessage) -> str:
    body = message.get_body(preferencelist=("plain",))
    assert body is not None, message
    return str(body.get_content())


@then(parsers.parse("the buyer was reminded {hours} after the failure"))
def reminded_at(marketplace: Marketplace, won: WonLot, failure: PaymentSession,
                hours: str) -> None:
    """``1 hour, 6 hours and 18 hours``: each reminder written that long after the
    failure, on the one clock, and sent."""
    expected = [int(h) * HOUR for h in re.findall(r"(\d+) hours?", hours)]
    rows = reminders(marketplace, won)
    assert len(rows) == len(expected), rows
    for row, after in zip(rows, expected, strict=True):
        late = row["created_at"] - (failure.updated_at + after)
        assert 0 <= late <= REMINDER_TOLERANCE_SECONDS, (row, failure.updated_at, after)
        assert row["status"] == "sent" and row["sent_at"] is not None, row


@then("each reminder reached the buyer's mailbox with a link to pay")
def reminders_delivered(marketplace: Marketplace, won: WonLot) -> None:
    subject = REMINDER_SUBJECT.format(lot=won.lot.number)
    marketplace.mail.mailbox.wait_for(won.buyer.email, subject)
    delivered = [m for m in marketplace.mail.mailbox.to(won.buyer.email)
                 if subject in str(m["Subject"])]
    assert len(delivered) == len(reminders(marketplace, won)), delivered
    for message in delivered:
        assert len(PAYMENT_LINK.findall(plain_text(message))) == 1


@then(parsers.parse("the buyer was reminded {hours:d} hour after the failure and never"
                    " again"))
def reminded_once_before_close(marketplace: Marketplace, won: WonLot,
                               failure: PaymentSession, hours: int) -> None:
    reminded_at(marketplace, won, failure, f"{hours} hour")
    assert all(row["created_at"] < closes_at(won) for row in reminders(marketplace, won))
    subject = REMINDER_SUBJECT.format(lot=won.lot.number)
    assert len([m for m in marketplace.mail.mailbox.to(won.buyer.email)
                if subject in str(m["Subject"])]) == 1


@then("the buyer got no payment reminder")
def no_reminder(marketplace: Marketplace, won: WonLot) -> None:
    assert reminders(marketplace, won) == []
    subject = REMINDER_SUBJECT.format(lot=won.lot.number)
    assert [m for m in marketplace.mail.mailbox.to(won.buyer.email)
            if subject in str(m["Subject"])] == []
