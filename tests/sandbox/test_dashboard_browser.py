"""The sandbox dashboard in a real headless Chromium against a real sandbox process:
live updates, the clock buttons, resending a delivery, and narrow screens."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests
import stripe
from playwright.sync_api import Page, ViewportSize, expect

from harness.servers import RunningServer, start_sandbox
from simulator.sandbox.webhooks.receiver import WebhookReceiver

pytestmark = [pytest.mark.browser, pytest.mark.slow]
KEY = "sk_test_dashboard_browser_tests"
PHONE: ViewportSize = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """A sandbox of its own: the dashboard shows everything in it, and the clock moves."""
    server = start_sandbox(tmp_path_factory.mktemp("dashboard-sandbox"), workers=2, threads=4)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def sdk(sandbox: RunningServer) -> stripe.StripeClient:
    return stripe.StripeClient(KEY, base_addresses={"api": sandbox.url}, max_network_retries=0)


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver(tolerance=10**9) as running:  # the sandbox clock may be ahead
        yield running


def new_session(sdk: stripe.StripeClient) -> Any:
    return sdk.v1.checkout.sessions.create(params={
        "mode": "payment", "success_url": "http://127.0.0.1:9/done",
        "line_items": [{"quantity": 1, "price_data": {
            "currency": "usd", "unit_amount": 64_200,
            "product_data": {"name": "Lot 17: Art deco bronze lamp"}}}],
    })


def row(page: Page, object_id: str) -> Any:
    return page.locator(f'tr[data-id="{object_id}"]')


def test_a_payment_made_through_the_sdk_appears_without_a_reload(
        page: Page, sandbox: RunningServer, sdk: stripe.StripeClient) -> None:
    errors: list[str] = []  # a script the page's CSP refused would show here
    page.on("console", lambda message: errors.append(message.text)
            if message.type == "error" else None)
    page.goto(f"{sandbox.url}/dashboard/payments")
    expect(page.get_by_test_id("live-status")).to_have_text("live")
    page.evaluate("window.stillTheSamePage = true")
    intent = sdk.v1.payment_intents.create(params={
        "amount": 64_200, "currency": "usd", "confirm": True,
        "payment_method": "pm_card_visa", "description": "Lot 17"})
    expect(row(page, intent.id)).to_contain_text("$642.00", timeout=10_000)
    expect(row(page, intent.id)).to_contain_text("succeeded")
    expect(row(page, str(intent.latest_charge))).to_contain_text("visa •••• 4242")
    assert page.evaluate("window.stillTheSamePage") is True
    assert errors == []


def test_a_delivery_resent_from_the_dashboard_is_listed_with_its_new_attempt(
        page: Page, sandbox: RunningServer, sdk: stripe.StripeClient,
        receiver: WebhookReceiver) -> None:
    endpoint = sdk.v1.webhook_endpoints.create(params={
        "url": receiver.url, "enabled_events": ["customer.created"]})
    receiver.secrets.append(str(endpoint.secret))
    try:
        customer = sdk.v1.customers.create(params={"email": "ada@example.com"})
        assert receiver.wait_until(lambda r: len(r.verified()) == 1)
        event = sdk.v1.events.list(params={"type": "customer.created", "limit": 1}).data[0]
        assert event.data.object.id == customer.id
        page.goto(f"{sandbox.url}/dashboard/events/{event.id}")
        attempts = page.get_by_test_id("attempt")
        expect(attempts).to_have_count(1)
        expect(page.get_by_test_id("event-json")).to_contain_text(f'"id": "{customer.id}"')
        page.get_by_test_id("deliveries").get_by_test_id("resend").first.click()
        expect(page.get_by_test_id("notice")).to_contain_text("Resending")
        expect(attempts).to_have_count(2, timeout=10_000)  # listed by the live update
        expect(attempts.first.locator(".Code")).to_have_text("200")
        assert receiver.wait_until(lambda r: len(r.verified()) == 2)
    finally:
        sdk.v1.webhook_endpoints.delete(endpoint.id)


def test_plus_24_hours_moves_the_clock_and_an_open_session_expires_on_screen(
        page: Page, sandbox: RunningServer, sdk: stripe.StripeClient) -> None:
    session = new_session(sdk)
    page.goto(f"{sandbox.url}/dashboard/checkout_sessions")
    expect(row(page, session.id)).to_contain_text("open")
    before = page.get_by_test_id("clock-now").inner_text()
    page.get_by_role("button", name="+24 h").click()
    expect(page.get_by_test_id("notice")).to_contain_text("Clock moved to")
    expect(page.get_by_test_id("clock-now")).not_to_have_text(before)
    day_later = requests.get(f"{sandbox.url}/_sandbox/clock", timeout=10).json()
    assert day_later["offset_seconds"] >= 24 * 3600 - 1
    expect(page.get_by_test_id("clock-offset")).to_contain_text("1 d")
    expect(row(page, session.id)).to_contain_text("expired")


@pytest.fixture(scope="module")
def demo_data(sdk: stripe.StripeClient) -> str:
    """A bit of everything the pages show (long ids, a decline, a customer); the id of
    the newest event."""
    customer = sdk.v1.customers.create(params={"email": "grace.hopper@example.com",
                                               "name": "Grace Hopper"})
    with pytest.raises(stripe.CardError):
        sdk.v1.payment_intents.create(params={
            "amount": 1_500, "currency": "usd", "confirm": True, "customer": customer.id,
            "payment_method": "pm_card_chargeDeclinedInsufficientFunds"})
    new_session(sdk)
    return str(sdk.v1.events.list(params={"limit": 1}).data[0].id)


@pytest.mark.parametrize("path", ["/", "/dashboard/payments", "/dashboard/checkout_sessions",
                                  "/dashboard/customers", "/dashboard/events",
                                  "/dashboard/events/{event}", "/dashboard/webhooks",
                                  "/dashboard/sandbox"])
def test_main_pages_fit_a_390_pixel_screen(page: Page, sandbox: RunningServer,
                                          demo_data: str, path: str) -> None:
    page.set_viewport_size(PHONE)
    page.goto(f"{sandbox.url}{path.format(event=demo_data)}")
    expect(page.locator("h1")).to_be_visible()
    widths = page.evaluate("[document.documentElement.scrollWidth,"
                           " document.documentElement.clientWidth]")
    assert widths[0] <= widths[1], f"{path} is {widths[0]} px wide at {widths[1]} px"


def test_reset_asks_first_then_forgets_everything(page: Page, sandbox: RunningServer,
                                                 sdk: stripe.StripeClient) -> None:
    """Last in this module: it empties the sandbox the other tests use."""
    customer = sdk.v1.customers.create(params={"name": "Ada Lovelace"})
    page.goto(f"{sandbox.url}/dashboard/sandbox")
    page.once("dialog", lambda dialog: dialog.dismiss())
    page.get_by_role("button", name="Reset sandbox").click()
    assert sdk.v1.customers.retrieve(customer.id).id == customer.id
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Reset sandbox").click()
    expect(page.get_by_test_id("notice")).to_contain_text("Sandbox reset")
    assert sdk.v1.customers.list().data == []
    expect(page.get_by_test_id("clock-offset")).to_have_text("+0")
