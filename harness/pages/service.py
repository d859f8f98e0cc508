"""The payment service's pages, as page objects: locators live here (all on stable
``data-testid`` attributes), steps call the intent methods.

``ServicePages(page, base_url)`` gives the buyer's pages (login, my winnings, payment
status) and the admin pages; each method waits for what it needs, so steps never sleep.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Protocol

from playwright.sync_api import Download, Locator, Page, expect


class Credentials(Protocol):
    """Whoever signs in: a harness ``Buyer``, or a test's own account."""

    @property
    def email(self) -> str: ...

    @property
    def password(self) -> str: ...


def _testid(name: str) -> str:
    return f"[data-testid='{name}']"


@dataclass
class _Base:
    page: Page
    base_url: str

    def _go(self, path: str) -> None:
        self.page.goto(f"{self.base_url.rstrip('/')}{path}")

    def by_testid(self, name: str) -> Locator:
        return self.page.locator(_testid(name))

    def current_user(self) -> str | None:
        user = self.by_testid("current-user")
        return user.inner_text() if user.count() else None

    def sign_out(self) -> None:
        self.by_testid("sign-out").click()
        self.by_testid("login-page").wait_for()

    def error(self) -> tuple[str, str]:
        """(code, message) of the error page being shown."""
        self.by_testid("error-page").wait_for()
        return (self.by_testid("error-code").inner_text(),
                self.by_testid("error-message").inner_text())


class LoginPage(_Base):
    def open(self, next_path: str | None = None) -> LoginPage:
        self._go("/payments/login" + (f"?next={next_path}" if next_path else ""))
        self.by_testid("login-page").wait_for()
        return self

    def sign_in(self, email: str, password: str) -> None:
        """Fill the form and wait for the signed-in page."""
        if self.by_testid("current-user").count():  # someone else is signed in here:
            self.by_testid("sign-out").click()  # out first, so the wait below is theirs
            expect(self.by_testid("current-user")).to_have_count(0)
        self.by_testid("login-email").fill(email)
        self.by_testid("login-password").fill(password)
        self.by_testid("login-submit").click()
        expect(self.by_testid("current-user")).to_be_visible()

    def try_sign_in(self, email: str, password: str) -> str:
        """Submit the form expecting a refusal; the message shown."""
        self.by_testid("login-email").fill(email)
        self.by_testid("login-password").fill(password)
        self.by_testid("login-submit").click()
        return self.by_testid("login-error").inner_text()


class WinningsPage(_Base):
    def open(self) -> WinningsPage:
        self._go("/payments/winnings")
        self.by_testid("winnings-page").wait_for()
        return self

    def winning(self, lot: int | str) -> Locator:
        return self.page.locator(f"{_testid('winning')}[data-lot='{lot}']")

    def lots(self) -> list[str]:
        return self.page.locator(_testid("winning")).evaluate_all(
            "rows => rows.map(r => r.dataset.lot)")

    def amount(self, lot: int | str) -> str:
        return self.winning(lot).locator(_testid("winning-amount")).inner_text()

    def time_left(self, lot: int | str) -> str:
        return self.winning(lot).locator(_testid("winning-countdown")).inner_text()

    def seconds_left(self, lot: int | str) -> int:
        countdown = self.winning(lot).locator(_testid("winning-countdown"))
        return int(countdown.get_attribute("data-seconds-left") or 0)

    def status(self, lot: int | str) -> str:
        return self.winning(lot).locator(_testid("winning-status")).inner_text()

    def state(self, lot: int | str) -> str:
        return self.winning(lot).get_attribute("data-state") or ""

    def can_pay(self, lot: int | str) -> bool:
        button = self.winning(lot).locator(_testid("pay-button"))
        return button.count() > 0 and button.is_enabled()

    def pay(self, lot: int | str) -> None:
        """Press Pay: the browser ends up on Stripe's hosted Checkout page."""
        self.winning(lot).locator(_testid("pay-button")).click()
        self.page.wait_for_load_state()

    def open_payment(self, lot: int | str) -> PaymentStatusPage:
        self.winning(lot).locator(_testid("view-payment")).click()
        status = PaymentStatusPage(self.page, self.base_url)
        status.wait_until_shown()
        return status

    def download_receipt(self, lot: int | str) -> Download:
        with self.page.expect_download() as download:
            self.winning(lot).locator(_testid("receipt-link")).click()
        return download.value


class PaymentStatusPage(_Base):
    def open(self, payment_session_id: str) -> PaymentStatusPage:
        self._go(f"/payments/sessions/{payment_session_id}")
        self.wait_until_shown()
        return self

    def wait_until_shown(self) -> None:
        self.by_testid("payment-page").wait_for()

    def payment_session_id(self) -> str:
        return self.by_testid("payment-page").get_attribute("data-payment-session-id") or ""

    def status(self) -> str:
        return self.by_testid("payment-status").get_attribute("data-status") or ""

    def status_text(self) -> str:
        return self.by_testid("payment-status").inner_text()

    def wait_for_status(self, status: str, timeout_ms: float = 15_000) -> None:
        """The page polls and reloads itself while a payment is being confirmed."""
        expect(self.by_testid("payment-status")).to_have_attribute(
            "data-status", status, timeout=timeout_ms)

    def amount(self) -> str:
        return self.by_testid("payment-amount").inner_text()

    def lot(self) -> str:
        return self.by_testid("payment-lot").inner_text()

    def attempts_used(self) -> int:
        return int(self.by_testid("attempts-used").inner_text())

    def attempts_left(self) -> int:
        return int(self.by_testid("attempts-left").inner_text())

    def failure_reason(self) -> str | None:
        reason = self.by_testid("failure-reason")
        return reason.inner_text() if reason.count() else None

    def time_left(self) -> str:
        return self.by_testid("window-countdown").inner_text()

    def can_retry(self) -> bool:
        button = self.by_testid("retry-button")
        return button.count() > 0 and button.is_enabled()

    def retry(self) -> None:
        """Try again: the browser ends up on a new Stripe Checkout page."""
        self.by_testid("retry-button").click()
        self.page.wait_for_load_state()

    def continue_to_payment(self) -> None:
        self.by_testid("continue-payment").click()
        self.page.wait_for_load_state()

    def has_receipt(self) -> bool:
        return self.by_testid("receipt-link").count() > 0

    def download_receipt(self) -> Download:
        with self.page.expect_download() as download:
            self.by_testid("receipt-link").click()
        return download.value


ADMIN_SECTIONS = ("payments", "orders", "transactions", "reviews", "webhooks", "audit",
                  "alerts", "security", "mail")


class AdminPages(_Base):
    def open(self, section: str = "index", status: str | None = None) -> AdminPages:
        path = "/payments/admin/" if section == "index" else f"/payments/admin/{section}"
        self._go(path + (f"?status={status}" if status else ""))
        self.by_testid(f"admin-{section}-page").wait_for()
        return self

    def stat(self, key: str) -> int:
        return int(self.by_testid(f"stat-{key}").locator(_testid("stat-value")).inner_text())

    def rows(self) -> list[dict[str, str]]:
        """The current table as a list of {column: text}."""
        return self.page.locator(_testid("admin-row")).evaluate_all(
            """rows => rows.map(row => Object.fromEntries(
                 [...row.querySelectorAll('td')].map(td =>
                   [td.dataset.testid.replace(/^cell-/, ''), td.innerText.trim()])))""")

    def row(self, row_id: str) -> Locator:
        return self.page.locator(f"{_testid('admin-row')}[data-id='{row_id}']")

    def cell(self, row_id: str, column: str) -> str:
        return self.row(row_id).locator(_testid(f"cell-{column}")).inner_text()

    def open_webhook(self, event_id: str) -> None:
        self._go(f"/payments/admin/webhooks/{event_id}")
        self.by_testid("webhook-event").wait_for()

    def webhook_status(self) -> str:
        return self.by_testid("webhook-status").inner_text()

    def replay_webhook(self) -> None:
        self.by_testid("replay-webhook").click()
        self.by_testid("webhook-event").wait_for()


class ServicePages:
    """Every page of the service for one browser page."""

    def __init__(self, page: Page, base_url: str) -> None:
        self.page = page
        self.login = LoginPage(page, base_url)
        self.winnings = WinningsPage(page, base_url)
        self.payment = PaymentStatusPage(page, base_url)
        self.admin = AdminPages(page, base_url)

    def sign_in_as(self, person: Credentials) -> None:
        """Sign in with the person's e-mail address and password."""
        self.login.open()
        self.login.sign_in(person.email, person.password)

    def is_on_service(self) -> bool:
        return bool(re.search(r"/payments/", self.page.url))
