"""The demo a newcomer gives, in a real browser against ``stripe-sim up``: a buyer signs
in, pays on Stripe's hosted page and downloads the receipt; the admin reads the receipt
email in the mailbox with its PDF and the text message sent beside it; and every main
page fits a 390-px phone screen."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pypdf
import pytest
from playwright.sync_api import Browser, Page, expect
from up_support import Up, demo_accounts, signed_in, start_up

from harness.pages.checkout import CardDetails, CheckoutPage
from harness.pages.service import PaymentStatusPage, WinningsPage
from simulator.service.seed import DemoAccount

pytestmark = pytest.mark.slow
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def up(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Up]:
    running = start_up(tmp_path_factory.mktemp("demo") / "data")
    yield running
    running.stop()


def a_lot_to_pay(up: Up) -> tuple[DemoAccount, int, str]:
    """A buyer and one of their open wins under $500 (no 3-D Secure) with no attempt."""
    by_email = {a.email: a for a in demo_accounts(up) if a.role == "buyer"}
    repo = up.repo()
    try:
        for win in repo.list_wins():
            user = repo.get_user(win.buyer_id)
            if (user is not None and user.email in by_email and win.currency == "usd"
                    and win.amount < 50_000 and not repo.sessions_for_win(win.id)):
                return by_email[user.email], win.lot, win.title
    finally:
        repo.close()
    raise AssertionError("the demo data has no open win under $500 left to pay")


def test_a_buyer_pays_gets_the_receipt_and_the_admin_reads_the_email(
        browser: Browser, up: Up) -> None:
    admin = next(a for a in demo_accounts(up) if a.role == "admin")
    buyer, lot, title = a_lot_to_pay(up)

    page = signed_in(browser, up, buyer, accept_downloads=True)
    winnings = WinningsPage(page, up.service).open()
    winnings.pay(lot)
    CheckoutPage(page).pay(CardDetails("4242424242424242"), email=buyer.email)
    status = PaymentStatusPage(page, up.service)
    status.wait_until_shown()
    status.wait_for_status("succeeded", timeout_ms=30_000)

    winnings.open()
    expect(winnings.winning(lot).get_by_test_id("winning-status")).to_have_text("Paid")
    expect(winnings.winning(lot).get_by_test_id("winning-countdown")).to_have_count(0)
    receipt = winnings.download_receipt(lot)
    text = "".join(p.extract_text() for p in pypdf.PdfReader(receipt.path()).pages)
    assert title in text and f"Lot {lot}" in text

    office = signed_in(browser, up, admin)
    office.goto(f"{up.service}/payments/admin/mail")
    message_link = office.get_by_role("link", name=f"Your receipt for lot {lot}")
    expect(message_link).to_be_visible(timeout=30_000)
    message_link.click()
    expect(office.get_by_test_id("mail-to")).to_have_text(buyer.email)
    expect(office.get_by_test_id("mail-delivery")).to_have_text("sent", timeout=30_000)
    attachment = office.get_by_test_id("mail-attachment")
    pdf = office.request.get(f"{up.service}{attachment.get_attribute('href')}")
    assert pdf.ok and pdf.headers["content-type"] == "application/pdf"
    attached = pypdf.PdfReader(io.BytesIO(pdf.body()))
    assert title in "".join(p.extract_text() for p in attached.pages)

    office.get_by_role("link", name="Text messages").click()
    text = office.get_by_test_id("admin-row").filter(has_text=f"for lot {lot} received")
    expect(text).to_have_count(1, timeout=30_000)
    expect(text.get_by_test_id("cell-delivery")).to_have_text("sent", timeout=30_000)


def fits(page: Page, url: str) -> None:
    page.goto(url)
    page.wait_for_load_state("networkidle")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{url} is {width} px wide at {PHONE['width']} px"


def test_the_main_pages_fit_a_phone(browser: Browser, up: Up) -> None:
    accounts = demo_accounts(up)
    buyer = next(a for a in accounts if a.role == "buyer")
    admin = next(a for a in accounts if a.role == "admin")
    phone = {"viewport": PHONE, "is_mobile": True, "device_scale_factor": 2}

    page = signed_in(browser, up, buyer, **phone)
    fits(page, f"{up.service}/payments/winnings")
    first_payment = page.get_by_test_id("view-payment").first
    if first_payment.count():
        fits(page, f"{up.service}{first_payment.get_attribute('href')}")
    page.context.close()

    office = signed_in(browser, up, admin, **phone)
    for section in ("", "payments", "orders", "transactions", "reviews", "webhooks",
                    "audit", "alerts", "security", "mail", "sms"):
        fits(office, f"{up.service}/payments/admin/{section}")
    message = office.locator("[data-testid='cell-subject'] a").first
    if message.count():
        fits(office, f"{up.service}{message.get_attribute('href')}")
    fits(office, f"{up.sandbox}/")
    office.context.close()
    login = browser.new_context(**phone).new_page()  # type: ignore[arg-type]
    fits(login, f"{up.service}/payments/login")
    login.context.close()

