"""Checkout: paying for a won lot, a double click, someone else's lot, cancel and
come back."""

from __future__ import annotations

import requests
from playwright.sync_api import expect
from pytest_bdd import then, when

from harness.marketplace import Marketplace, WonLot
from harness.pages.checkout import CheckoutPage
from harness.pages.service import ServicePages


@when("the buyer presses Pay twice")
def buyer_double_clicks(pages: ServicePages, won: WonLot) -> None:
    pages.winnings.open()
    button = pages.winnings.winning(won.lot.number).get_by_test_id("pay-button")
    button.dblclick()
    CheckoutPage(pages.page).wait_until_ready()


@then("only one Stripe Checkout Session was created for the lot")
def one_checkout_session(marketplace: Marketplace, won: WonLot) -> None:
    reached = [s for s in marketplace.payment_sessions(won) if s.checkout_session_id]
    assert len(reached) == 1, reached
    sandbox = marketplace.sandbox
    if sandbox is not None:
        at_stripe = [s for s in sandbox.sdk.v1.checkout.sessions.list(
            params={"limit": 100}).auto_paging_iter()
            if (s.to_dict().get("metadata") or {}).get("win_id") == won.win_id]
        assert len(at_stripe) == 1


@when("the buyer tries to pay for the other buyer's lot")
def buyer_pays_other_lot(pages: ServicePages, marketplace: Marketplace,
                         other_won: WonLot) -> None:
    pages.page.goto(f"{marketplace.url}/payments/winnings")
    answer = pages.page.request.post(f"{marketplace.url}/payments/checkout/create",
                                     data={"auction_id": other_won.win_id})
    pages.page.evaluate("status => window.__refusal = status", answer.status)


@then("the buyer is refused")
def buyer_refused(pages: ServicePages, other_won: WonLot, marketplace: Marketplace) -> None:
    assert pages.page.evaluate("window.__refusal") in (400, 403)
    assert marketplace.payment_sessions(other_won) == []
    assert pages.winnings.winning(other_won.lot.number).count() == 0


@when("the buyer leaves Stripe's page without paying")
def buyer_cancels(pages: ServicePages) -> None:
    CheckoutPage(pages.page).go_back()
    pages.page.wait_for_load_state()


@then("the buyer can still pay for the lot")
def buyer_can_pay_again(pages: ServicePages, won: WonLot, marketplace: Marketplace) -> None:
    pages.winnings.open()
    assert pages.winnings.can_pay(won.lot.number)
    expect(pages.winnings.winning(won.lot.number)).to_be_visible()
    assert requests.get(f"{marketplace.url}/payments/health", timeout=10).ok
