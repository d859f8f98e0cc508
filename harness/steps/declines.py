"""Declines: Stripe's page says why a card was declined, the marketplace's payment page
says it in its own words and offers another attempt, and another card (on the same page,
or in a new attempt) pays once.

The decline reasons a buyer reads are Stripe's (https://docs.stripe.com/declines/codes)
on Checkout, and the service's ``BUYER_MESSAGES`` on its payment page. Trying another
card and reading the payment page are steps every area shares (``common.py``)."""

from __future__ import annotations

from pytest_bdd import parsers, then

from harness.pages.service import ServicePages


@then(parsers.parse("the buyer has used {count:d} payment attempts"))
@then(parsers.parse("the buyer has used {count:d} payment attempt"))
def attempts_used(pages: ServicePages, count: int) -> None:
    assert pages.payment.attempts_used() == count
