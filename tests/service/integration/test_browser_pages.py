"""The buyer's and the admin's pages in a real headless Chromium, through the page
objects in ``harness/pages/service.py``, paying on the sandbox's hosted Checkout page."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from integration_support import ADMIN, ALICE, BOB, Marketplace, account
from playwright.sync_api import Browser, Page, sync_playwright
from playwright.sync_api import Error as PlaywrightError

from harness.browser import find_chromium, launch_options
from harness.pages.checkout import CardDetails, CheckoutPage
from harness.pages.service import ServicePages

pytestmark = pytest.mark.slow
VISA = CardDetails("4242 4242 4242 4242")
INSUFFICIENT_FUNDS = CardDetails("4000 0000 0000 9995")


@pytest.fixture(scope="module")
def service_browser(request: pytest.FixtureRequest) -> Iterator[Browser]:
    """The suite's shared ``browser`` fixture when a conftest above provides one (one
    sync Playwright per thread: a second cannot start while another is alive), else a
    Chromium of our own."""
    try:
        yield request.getfixturevalue("browser")
        return
    except pytest.FixtureLookupError:
        pass
    if find_chromium() is None:
        pytest.skip("no Chromium found: install Debian's chromium or set STRIPE_SIM_BROWSER")
    try:
        playwright = sync_playwright().start()
    except PlaywrightError as error:
        pytest.skip(f"another Playwright is running in this session ({error.message[:60]}...);"
                    " share one `browser` fixture from tests/conftest.py")
    launched = playwright.chromium.launch(**launch_options())  # type: ignore[arg-type]
    yield launched
    launched.close()
    playwright.stop()


@pytest.fixture
def page(service_browser: Browser) -> Iterator[Page]:
    context = service_browser.new_context(accept_downloads=True)
    opened = context.new_page()
    opened.set_default_timeout(15_000)
    yield opened
    context.close()


def test_a_buyer_pays_for_lot_17_with_a_card_that_needs_authentication(
        market: Marketplace, page: Page) -> None:
    won = market.win(17, 64_200, title="Brass carriage clock")
    pages = ServicePages(page, market.url)
    pages.sign_in_as(account(ALICE))
    assert pages.winnings.lots() == ["17"]
    assert pages.winnings.amount(17) == "$642.00"
    assert re.fullmatch(r"23h 5[89]m \d{1,2}s", pages.winnings.time_left(17))
    assert 86_000 < pages.winnings.seconds_left(17) <= 86_340  # the live countdown runs
    assert pages.winnings.can_pay(17)

    pages.winnings.pay(17)
    checkout = CheckoutPage(page)
    checkout.pay(VISA, email="alice@example.test")
    checkout.complete_challenge()  # above $500: 3-D Secure is requested
    page.wait_for_url(f"{market.url}/payments/sessions/*")
    market.sandbox.drain()

    pages.payment.wait_for_status("succeeded")
    assert pages.payment.lot() == "Lot 17: Brass carriage clock"
    assert pages.payment.status_text() == "Paid"
    if not pages.payment.has_receipt():
        # The link shows once the receipt is written, just after the payment is recorded;
        # a page drawn between the two stops polling (it is paid) and needs a reload.
        for _ in range(50):
            if market.orders(won)[0].receipt_path:
                break
            page.wait_for_timeout(100)
        page.reload()
    receipt = pages.payment.download_receipt()
    assert receipt.suggested_filename.startswith("receipt-ord_")
    with open(receipt.path(), "rb") as pdf:
        assert pdf.read(5) == b"%PDF-"
    pages.winnings.open()
    assert pages.winnings.state(17) == "paid" and not pages.winnings.can_pay(17)


def test_a_declined_card_shows_the_reason_and_the_retry_pays(market: Marketplace,
                                                             page: Page) -> None:
    market.win(18, 12_000, title="Oak writing desk")
    pages = ServicePages(page, market.url)
    pages.sign_in_as(account(ALICE))
    pages.winnings.pay(18)
    checkout = CheckoutPage(page)
    checkout.pay(INSUFFICIENT_FUNDS, email="alice@example.test")
    assert "insufficient funds" in checkout.payment_error()
    market.sandbox.drain()

    pages.winnings.open()
    assert pages.winnings.state(18) == "failed"
    status = pages.winnings.open_payment(18)
    assert status.status() == "failed"
    assert status.failure_reason() == ("Your card has insufficient funds. Try another card or"
                                       " contact your bank.")
    assert (status.attempts_used(), status.attempts_left()) == (1, 3)

    status.retry()
    CheckoutPage(page).pay(VISA, email="alice@example.test")
    page.wait_for_url(f"{market.url}/payments/sessions/*")
    market.sandbox.drain()
    pages.payment.wait_for_status("succeeded")
    assert len(market.repo.transactions_for_win("win_18")) == 1


def test_an_admin_sees_the_order_and_the_webhook_inbox(market: Marketplace, page: Page) -> None:
    win = market.win(19, 5_000)
    market.pay(market.start(win)["payment_session_id"])
    pages = ServicePages(page, market.url)
    pages.sign_in_as(account(ADMIN))
    assert pages.admin.open().stat("orders") == 1
    [order] = pages.admin.open("orders").rows()
    assert order["status"] == "paid" and order["lot"] == "Lot 19: Lot number 19"
    inbox = pages.admin.open("webhooks").rows()
    assert inbox and {row["status"] for row in inbox} == {"processed"}
    pages.admin.open_webhook(inbox[0]["event"])
    assert pages.admin.webhook_status() == "processed"


def test_a_buyer_cannot_open_the_admin_pages(market: Marketplace, page: Page) -> None:
    pages = ServicePages(page, market.url)
    pages.sign_in_as(account(BOB))
    page.goto(f"{market.url}/payments/admin/")
    assert pages.admin.error() == ("forbidden", "This page is for administrators.")
