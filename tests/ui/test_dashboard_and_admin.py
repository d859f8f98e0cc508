"""The back office and the sandbox dashboard in a real browser, against ``stripe-sim up``:
the presenter moves the clock a day and a buyer's payment window closes on screen; a
webhook delivery resent from the dashboard arrives at the service; an admin approves a
payment held for review; the admin's charts,
a payment's timeline and the paginated audit log; and the main pages on a 390-px phone."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect
from up_support import Up, demo_accounts, signed_in, start_up

from harness.pages.checkout import CardDetails, CheckoutPage
from harness.pages.service import PaymentStatusPage, WinningsPage
from simulator.service.seed import DemoAccount

pytestmark = pytest.mark.slow
ELEVATED_RISK_CARD = "4000000000009235"  # Stripe's test card Radar rates elevated risk
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True,
         "device_scale_factor": 2}


@pytest.fixture(scope="module")
def up(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Up]:
    running = start_up(tmp_path_factory.mktemp("ui") / "data")
    yield running
    running.stop()


def the(up: Up, role: str) -> DemoAccount:
    return next(account for account in demo_accounts(up) if account.role == role)


def fits_a_phone(page: Page, url: str) -> None:
    page.goto(url)
    page.wait_for_load_state("networkidle")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"{url} is {width} px wide on a 390-px phone"


def test_a_delivery_resent_from_the_dashboard_arrives_at_the_service(
        browser: Browser, up: Up) -> None:
    dashboard = browser.new_context().new_page()
    dashboard.set_default_timeout(20_000)
    dashboard.goto(f"{up.sandbox}/")
    dashboard.get_by_role("link", name="Webhooks", exact=True).click()
    delivery = dashboard.locator("[data-testid='deliveries'] tr[data-delivery]").first
    expect(delivery).to_be_visible(timeout=30_000)
    event_link = delivery.locator("a.Id").first.get_attribute("href") or ""
    event_id = event_link.rstrip("/").rsplit("/", 1)[-1]
    assert event_id.startswith("evt_")

    delivery.get_by_test_id("resend").click()

    resent = dashboard.locator("tr[data-delivery]", has_text=event_id)
    expect(resent.first).to_be_visible()
    ok_answers = dashboard.locator("tr[data-delivery]", has_text=event_id).locator(
        "[data-testid='attempt'] .Code--ok")
    expect(ok_answers).not_to_have_count(0, timeout=30_000)
    office = signed_in(browser, up, the(up, "admin"))
    office.goto(f"{up.service}/payments/admin/webhooks/{event_id}")
    expect(office.get_by_test_id("webhook-event-id")).to_have_text(event_id)
    expect(office.get_by_test_id("webhook-status")).to_have_text("processed")
    dashboard.context.close()
    office.context.close()


def test_the_admin_sees_charts_a_timeline_and_the_audit_log(browser: Browser, up: Up) -> None:
    office = signed_in(browser, up, the(up, "admin"))
    office.goto(f"{up.service}/payments/admin/?bucket=hour")
    for chart in ("success-rate", "recovery-rate", "revenue", "webhook-latency"):
        expect(office.get_by_test_id(f"chart-{chart}").locator("svg")).to_be_visible()
    success = office.get_by_test_id("chart-success-rate")
    success.get_by_text("Numbers").click()
    expect(success.get_by_test_id("chart-value").last).to_have_text(re.compile(r"\d+% \("))

    office.get_by_test_id("admin-nav-payments").click()
    office.get_by_test_id("admin-row").first.get_by_test_id("cell-lot").get_by_role(
        "link").click()
    # the win's own record is on its timeline (entries in the same second keep no order)
    expect(office.get_by_test_id("timeline-entry").filter(has_text="win.recorded")
           ).to_have_count(1)
    expect(office.get_by_test_id("timeline")).to_contain_text("Checkout created")

    office.get_by_test_id("admin-nav-audit").click()
    expect(office.get_by_test_id("pager-position")).to_contain_text("Page 1 of")
    expect(office.get_by_test_id("cell-at").first).to_have_text(
        re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC \((just now|\d+ (min|h|d) ago)\)"))
    office.context.close()


def a_lot_to_pay(up: Up) -> tuple[DemoAccount, int]:
    """A demo buyer and one of their open wins under $500 with no attempt yet."""
    by_email = {a.email: a for a in demo_accounts(up) if a.role == "buyer"}
    repo = up.repo()
    try:
        for win in repo.list_wins():
            user = repo.get_user(win.buyer_id)
            if (user is not None and user.email in by_email and win.currency == "usd"
                    and win.amount < 50_000 and not repo.sessions_for_win(win.id)):
                return by_email[user.email], win.lot
    finally:
        repo.close()
    raise AssertionError("the demo data has no open win under $500 left to pay")


def test_an_admin_approves_a_payment_held_for_review(browser: Browser, up: Up) -> None:
    """Radar rates the card's payment elevated risk: the order waits in the review queue
    until an admin clears it."""
    buyer, lot = a_lot_to_pay(up)
    page = signed_in(browser, up, buyer)
    WinningsPage(page, up.service).open().pay(lot)
    CheckoutPage(page).pay(CardDetails(ELEVATED_RISK_CARD), email=buyer.email)
    PaymentStatusPage(page, up.service).wait_for_status("succeeded", timeout_ms=30_000)

    office = signed_in(browser, up, the(up, "admin"))
    office.goto(f"{up.service}/payments/admin/reviews")
    held = office.get_by_test_id("admin-row").filter(has_text=f"Lot {lot}:")
    expect(held).to_have_count(1, timeout=30_000)
    held.get_by_test_id("action-clear").click()

    expect(office.get_by_test_id("admin-row").filter(has_text=f"Lot {lot}:")).to_have_count(0)
    office.get_by_test_id("admin-nav-transactions").click()
    cleared = office.get_by_test_id("admin-row").filter(has_text=f"Lot {lot}:")
    expect(cleared.get_by_test_id("cell-review")).to_have_text("cleared")
    page.context.close()
    office.context.close()


def test_the_main_pages_fit_a_390_px_phone(browser: Browser, up: Up) -> None:
    """After the held payment above, so a paid lot's receipt page is among them."""
    buyer = signed_in(browser, up, the(up, "buyer"), **PHONE)
    fits_a_phone(buyer, f"{up.service}/payments/winnings")
    views = [link.get_attribute("href") for link in buyer.locator(
        "[data-testid='winning'][data-state='paid'] [data-testid='view-payment'],"
        " [data-testid='winning'][data-state='failed'] [data-testid='view-payment']").all()]
    assert views, "no paid or failed payment to look at"
    for view in views[:3]:
        fits_a_phone(buyer, f"{up.service}{view}")
    buyer.context.close()

    office = signed_in(browser, up, the(up, "admin"), **PHONE)
    for section in ("", "?bucket=hour", "orders", "audit", "reviews", "mail"):
        fits_a_phone(office, f"{up.service}/payments/admin/{section}")
    message = office.locator("[data-testid='cell-subject'] a").first
    expect(message).to_be_visible()
    fits_a_phone(office, f"{up.service}{message.get_attribute('href')}")
    office.goto(f"{up.service}/payments/admin/payments")
    lot = office.get_by_test_id("cell-lot").get_by_role("link").first
    fits_a_phone(office, f"{up.service}{lot.get_attribute('href')}")
    fits_a_phone(office, f"{up.sandbox}/")
    office.context.close()


def test_moving_the_clock_a_day_closes_a_window_on_the_buyers_screen(
        browser: Browser, up: Up) -> None:
    """Last in this module: the day it moves stays moved for the demo's processes."""
    buyer = signed_in(browser, up, the(up, "buyer"))
    winnings = WinningsPage(buyer, up.service).open()
    open_lot = buyer.locator("[data-testid='winning'][data-state='awaiting']").first
    expect(open_lot).to_be_visible()
    lot = open_lot.get_attribute("data-lot") or ""
    expect(winnings.winning(lot).get_by_test_id("winning-countdown")).not_to_have_text(
        "Window closed")

    dashboard = browser.new_context().new_page()
    dashboard.set_default_timeout(20_000)
    dashboard.goto(f"{up.sandbox}/")
    dashboard.get_by_role("button", name="+24 h").click()
    expect(dashboard.get_by_test_id("clock-offset")).not_to_have_text(re.compile(r"^0"))

    winnings.open()
    expect(winnings.winning(lot).get_by_test_id("winning-status")).to_have_text(
        "Window closed", timeout=30_000)
    expect(winnings.winning(lot).get_by_test_id("pay-button")).to_have_count(0)
    dashboard.context.close()
    buyer.context.close()
