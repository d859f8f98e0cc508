"""Declines: Stripe's page says why a card was declined, the marketplace's payment page
says it in its own words and offers another attempt, and another card (on the same page,
or in a new attempt) pays once.

The decline reasons a buyer reads are Stripe's (https://docs.stripe.com/declines/codes)
on Checkout, and the service's ``BUYER_MESSAGES`` on its payment page. The phrases are
the ones ``harness/steps/retries.py`` uses for the same actions."""

from __future__ import annotations

from pytest_bdd import parsers, then, when

from harness.marketplace import WonLot
from harness.pages.checkout import CardDetails, CheckoutPage
from harness.pages.service import ServicePages
from harness.steps.cards import CARDS, card

# Test cards these areas need that the shared list (harness/steps/cards.py) lacks.
MORE_CARDS = {
    # https://docs.stripe.com/testing#authentication-and-setup: "Always authenticate".
    "a card that always needs authentication": "4000 0027 6000 3184",
}


def _card_for(description: str) -> CardDetails:
    if description in CARDS or description not in MORE_CARDS:
        return card(description)
    return CardDetails(MORE_CARDS[description])


# == on Stripe's page =======================================================================
@when(parsers.parse("the buyer tries {description} on the same Stripe page"))
def buyer_tries_another_card(pages: ServicePages, won: WonLot, description: str) -> None:
    """Another card in the same attempt: Checkout stays open after a decline.

    https://docs.stripe.com/payments/checkout"""
    CheckoutPage(pages.page).pay(_card_for(description), email=won.buyer.email)


# == on the marketplace's payment page ======================================================
@when(parsers.parse("the buyer tries again with {description}"))
def buyer_retries_from_marketplace(pages: ServicePages, won: WonLot, description: str) -> None:
    """A new attempt from the payment page's "Try again", on a new Checkout page.

    The button appears once the failure has reached the marketplace (the page reloads
    itself when it does)."""
    pages.payment.wait_for_status("failed")
    pages.payment.retry()
    CheckoutPage(pages.page).pay(_card_for(description), email=won.buyer.email)


@then(parsers.parse('the payment page says "{reason}"'))
def payment_page_says(pages: ServicePages, reason: str) -> None:
    assert pages.payment.failure_reason() == reason


@then(parsers.parse("the buyer has {count:d} attempts left"))
@then(parsers.parse("the buyer has {count:d} attempt left"))
def attempts_left(pages: ServicePages, count: int) -> None:
    assert pages.payment.can_retry()
    assert pages.payment.attempts_left() == count


@then(parsers.parse("the buyer has used {count:d} payment attempts"))
@then(parsers.parse("the buyer has used {count:d} payment attempt"))
def attempts_used(pages: ServicePages, count: int) -> None:
    assert pages.payment.attempts_used() == count
