"""Stripe Checkout's hosted page, as a page object.

The selectors are the element ids real Stripe Checkout exposes (the ones public test
suites use); the sandbox's hosted page carries the same ids, so this one class pays on
both. Optional fields (postal code, the card accordion, Link's opt-in) are filled only
when they are visible, because real Checkout shows them depending on country and account.
"""

from __future__ import annotations

from dataclasses import dataclass

from playwright.sync_api import Frame, Page, expect

PAY_BUTTON = "[data-testid='hosted-payment-submit-button']"
CHALLENGE_FRAME = "stripe-challenge-frame"


@dataclass(frozen=True)
class CardDetails:
    number: str
    expiry: str = "12 / 34"
    cvc: str = "123"
    name: str = "Jenny Rosen"
    country: str = "US"
    postal_code: str = "94107"


class CheckoutPage:
    def __init__(self, page: Page) -> None:
        self.page = page

    def wait_until_ready(self) -> None:
        self.page.locator("#cardNumber").wait_for(state="visible")

    def _fill_if_visible(self, selector: str, value: str) -> None:
        field = self.page.locator(selector)
        if field.count() and field.first.is_visible() and field.first.is_editable():
            field.first.fill(value)

    def fill_card(self, card: CardDetails, email: str | None = None) -> None:
        self.wait_until_ready()
        accordion = self.page.locator("[data-testid='card-accordion-item-button']")
        if accordion.count() and accordion.first.is_visible():
            accordion.first.click()
        if email:
            self._fill_if_visible("#email", email)
        self.page.locator("#cardNumber").fill(card.number)
        self.page.locator("#cardExpiry").fill(card.expiry)
        self.page.locator("#cardCvc").fill(card.cvc)
        self.page.locator("#billingName").fill(card.name)
        self.page.locator("select#billingCountry").select_option(card.country)
        self._fill_if_visible("#billingPostalCode", card.postal_code)
        link_opt_in = self.page.locator("#enableStripePass")
        if link_opt_in.count() and link_opt_in.is_checked():
            link_opt_in.uncheck(force=True)

    def submit(self) -> None:
        self.page.locator(PAY_BUTTON).click()

    def pay(self, card: CardDetails, email: str | None = None) -> None:
        self.fill_card(card, email)
        self.submit()

    def field_error(self, field_id: str) -> str:
        return self.page.locator(f"#{field_id}-error").inner_text()

    def payment_error(self) -> str:
        box = self.page.locator("[data-testid='payment-error']")
        expect(box).to_be_visible()
        return box.inner_text()

    def challenge(self, timeout_ms: float = 15_000) -> Frame:
        """The 3-D Secure challenge frame. It is nested in a lightbox frame on Stripe and
        here, so it is found by name among all frames rather than by a frame path."""
        waited = 0.0
        while waited < timeout_ms:
            frame = self.page.frame(name=CHALLENGE_FRAME)
            if frame is not None and frame.locator("#test-source-authorize-3ds").count():
                return frame
            self.page.wait_for_timeout(100)
            waited += 100
        raise AssertionError("no 3-D Secure challenge appeared")

    def complete_challenge(self) -> None:
        self.challenge().locator("#test-source-authorize-3ds").click()

    def fail_challenge(self) -> None:
        self.challenge().locator("#test-source-fail-3ds").click()

    def go_back(self) -> None:
        self.page.locator("#back-link, [data-testid='business-link']").first.click()
