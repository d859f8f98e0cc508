"""The hosted checkout page in a real headless Chromium, paid with Stripe's test cards."""

from __future__ import annotations

from typing import Any

import pytest
import requests
import stripe
from playwright.sync_api import Page, expect

from harness.pages.checkout import CardDetails, CheckoutPage
from harness.servers import RunningServer

SUCCESS = "http://127.0.0.1:9/done?session_id={CHECKOUT_SESSION_ID}"
CANCEL = "http://127.0.0.1:9/cancelled"


def new_session(client: stripe.StripeClient, amount: int = 64_200, **extra: Any) -> Any:
    params: dict[str, Any] = {
        "mode": "payment",
        "success_url": SUCCESS,
        "cancel_url": CANCEL,
        "line_items": [
            {
                "quantity": 1,
                "price_data": {
                    "currency": "usd",
                    "unit_amount": amount,
                    "product_data": {"name": "Lot 17: Art deco bronze lamp"},
                },
            }
        ],
        **extra,
    }
    return client.v1.checkout.sessions.create(params=params)


def open_page(page: Page, session: Any) -> CheckoutPage:
    # success/cancel URLs point at a closed port: stop there instead of loading them.
    page.route("http://127.0.0.1:9/**", lambda route: route.fulfill(body="merchant page"))
    page.goto(session.url)
    checkout = CheckoutPage(page)
    checkout.wait_until_ready()
    return checkout


def test_page_shows_merchant_items_and_total(page: Page, client: stripe.StripeClient) -> None:
    session = new_session(client, customer_email="buyer@example.com")
    open_page(page, session)
    expect(page.get_by_test_id("product-summary-total-amount")).to_have_text("$642.00")
    expect(page.get_by_test_id("line-item")).to_contain_text("Lot 17: Art deco bronze lamp")
    expect(page.locator("#email")).to_have_value("buyer@example.com")
    expect(page.locator("#email")).to_have_attribute("readonly", "")


def test_success_redirects_with_the_session_id(page: Page, client: stripe.StripeClient) -> None:
    session = new_session(client)
    checkout = open_page(page, session)
    checkout.pay(CardDetails("4242 4242 4242 4242"), email="ada@example.com")
    page.wait_for_url(f"**/done?session_id={session.id}")
    paid = client.v1.checkout.sessions.retrieve(session.id)
    assert (paid.status, paid.payment_status) == ("complete", "paid")
    assert paid.customer_details is not None
    assert paid.customer_details.email == "ada@example.com"


DECLINES = [
    ("4000000000000002", "Your card was declined."),
    ("4000000000009995", "Your card has insufficient funds."),
    ("4000000000009987", "Your card was declined."),
    ("4000000000009979", "Your card was declined."),
    ("4000000000000069", "Your card has expired."),
    ("4000000000000127", "Your card's security code is incorrect."),
    (
        "4000000000000119",
        "An error occurred while processing your card. Try again in a little bit.",
    ),
    ("4000000000006975", "Your card was declined for making repeated attempts too frequently"),
    ("4100000000000019", "Your card was declined."),
]


@pytest.mark.parametrize(("number", "message"), DECLINES, ids=[n for n, _ in DECLINES])
def test_decline_keeps_the_buyer_on_the_page(
    page: Page, client: stripe.StripeClient, number: str, message: str
) -> None:
    session = new_session(client)
    checkout = open_page(page, session)
    checkout.pay(CardDetails(number), email="ada@example.com")
    assert message in checkout.payment_error()
    still_open = client.v1.checkout.sessions.retrieve(session.id)
    assert still_open.status == "open"
    assert still_open.payment_intent is not None
    failed = client.v1.events.list(params={"type": "payment_intent.payment_failed", "limit": 5})
    assert any(e.data.object["id"] == still_open.payment_intent for e in failed.data)


def test_another_card_after_a_decline_pays(page: Page, client: stripe.StripeClient) -> None:
    session = new_session(client)
    checkout = open_page(page, session)
    checkout.pay(CardDetails("4000 0000 0000 9995"), email="ada@example.com")
    checkout.payment_error()
    checkout.pay(CardDetails("5555 5555 5555 4444"))
    page.wait_for_url(f"**/done?session_id={session.id}")
    intent = client.v1.payment_intents.retrieve(
        client.v1.checkout.sessions.retrieve(session.id).payment_intent
    )  # type: ignore[arg-type]
    assert intent.status == "succeeded"
    charges = client.v1.charges.list(params={"payment_intent": intent.id})
    assert sorted(c.status for c in charges.data) == ["failed", "succeeded"]


def test_field_errors_show_beside_the_field(page: Page, client: stripe.StripeClient) -> None:
    checkout = open_page(page, new_session(client))
    checkout.pay(
        CardDetails("4242 4242 4242 4241", expiry="01 / 20", cvc="1"), email="ada@example.com"
    )
    assert checkout.field_error("cardNumber") == "Your card number is invalid."
    assert checkout.field_error("cardExpiry") == "Your card's expiration year is in the past."
    assert checkout.field_error("cardCvc") == "Your card's security code is incomplete."


def test_three_d_secure_complete_pays(page: Page, client: stripe.StripeClient) -> None:
    session = new_session(client)
    checkout = open_page(page, session)
    checkout.pay(CardDetails("4000 0025 0000 3155"), email="ada@example.com")
    checkout.complete_challenge()
    page.wait_for_url(f"**/done?session_id={session.id}")
    intent_id = client.v1.checkout.sessions.retrieve(session.id).payment_intent
    intent = client.v1.payment_intents.retrieve(intent_id, params={"expand": ["latest_charge"]})  # type: ignore[arg-type]
    card = intent.latest_charge.payment_method_details.card  # type: ignore[union-attr]
    assert card.three_d_secure.result == "authenticated"


def test_three_d_secure_fail_returns_to_the_form(page: Page, client: stripe.StripeClient) -> None:
    session = new_session(
        client, payment_method_options={"card": {"request_three_d_secure": "any"}}
    )
    checkout = open_page(page, session)
    checkout.pay(CardDetails("4000 0000 0000 3055"), email="ada@example.com")
    checkout.fail_challenge()
    assert "unable to authenticate" in checkout.payment_error()
    assert client.v1.checkout.sessions.retrieve(session.id).status == "open"


def test_back_link_goes_to_cancel_url(page: Page, client: stripe.StripeClient) -> None:
    checkout = open_page(page, new_session(client))
    checkout.go_back()
    page.wait_for_url(CANCEL)


def test_expired_session_says_so(page: Page, client: stripe.StripeClient) -> None:
    session = new_session(client)
    client.v1.checkout.sessions.expire(session.id)
    page.goto(session.url)
    expect(page.get_by_test_id("checkout-message")).to_contain_text("expired")


def test_paid_session_says_it_is_paid(
    page: Page, client: stripe.StripeClient, sandbox_server: RunningServer
) -> None:
    session = new_session(client)
    paid = requests.post(
        f"{sandbox_server.url}/_sandbox/checkout/sessions/{session.id}/complete",
        data={"payment_method": "pm_card_visa"},
        timeout=10,
    )
    assert paid.status_code == 200
    page.goto(session.url)
    expect(page.get_by_test_id("checkout-message")).to_contain_text("This payment is complete")


def test_unknown_session_is_a_404_page(page: Page, sandbox_server: RunningServer) -> None:
    response = page.goto(f"{sandbox_server.url}/c/pay/cs_test_unknown")
    assert response is not None and response.status == 404
    expect(page.get_by_test_id("checkout-message")).to_contain_text("Page not found")


@pytest.mark.parametrize(("button", "status"), [("complete", "succeeded"), ("fail", "failed")])
def test_api_payment_intent_challenge_returns_to_return_url(
    page: Page, client: stripe.StripeClient, button: str, status: str
) -> None:
    intent = client.v1.payment_intents.create(
        params={
            "amount": 64_200,
            "currency": "usd",
            "payment_method": "pm_card_authenticationRequired",
            "confirm": True,
            "return_url": "http://127.0.0.1:9/returned",
        }
    )
    assert intent.status == "requires_action"
    assert intent.next_action is not None
    page.route("http://127.0.0.1:9/**", lambda route: route.fulfill(body="merchant page"))
    page.goto(intent.next_action.redirect_to_url.url)  # type: ignore[union-attr]
    expect(page.get_by_role("heading")).to_have_text("3D Secure 2 Test Page")
    page.locator(f"#test-source-{'authorize' if button == 'complete' else 'fail'}-3ds").click()
    page.wait_for_url(f"**/returned?payment_intent={intent.id}**")
    assert f"redirect_status={status}" in page.url
    after = client.v1.payment_intents.retrieve(intent.id)
    assert after.status == ("succeeded" if status == "succeeded" else "requires_payment_method")


# -- setup mode: saving a card, nothing charged --------------------------------------------
def new_setup_session(client: stripe.StripeClient, **extra: Any) -> Any:
    params: dict[str, Any] = {"mode": "setup", "currency": "usd", "success_url": SUCCESS,
                              "cancel_url": CANCEL, **extra}
    return client.v1.checkout.sessions.create(params=params)


def test_setup_mode_saves_the_card_to_the_customer(page: Page,
                                                   client: stripe.StripeClient) -> None:
    customer = client.v1.customers.create(params={"email": "grace@example.com"})
    session = new_setup_session(client, customer=customer.id)
    checkout = open_page(page, session)
    expect(page.get_by_test_id("product-summary-total-amount")).to_have_count(0)
    expect(page.get_by_role("button", name="Save card")).to_be_visible()
    expect(page.locator("#email")).to_have_value("grace@example.com")

    checkout.pay(CardDetails("4242 4242 4242 4242"))

    page.wait_for_url(f"**/done?session_id={session.id}")
    done = client.v1.checkout.sessions.retrieve(session.id)
    assert (done.status, done.payment_status, done.payment_intent) == \
        ("complete", "no_payment_required", None)
    setup = client.v1.setup_intents.retrieve(str(done.setup_intent))
    assert setup.status == "succeeded"
    card = client.v1.payment_methods.retrieve(str(setup.payment_method))
    assert card.customer == customer.id
    assert card.billing_details.name == "Jenny Rosen"


def test_setup_mode_card_that_asks_for_3d_secure_is_challenged(
        page: Page, client: stripe.StripeClient) -> None:
    session = new_setup_session(client)
    checkout = open_page(page, session)
    checkout.pay(CardDetails("4000 0025 0000 3155"), email="ada@example.com")
    checkout.complete_challenge()
    page.wait_for_url(f"**/done?session_id={session.id}")
    setup = client.v1.setup_intents.retrieve(
        str(client.v1.checkout.sessions.retrieve(session.id).setup_intent))
    assert setup.status == "succeeded"


def test_setup_mode_decline_keeps_the_customer_on_the_page(
        page: Page, client: stripe.StripeClient) -> None:
    session = new_setup_session(client)
    checkout = open_page(page, session)
    checkout.pay(CardDetails("4000 0000 0000 0002"), email="ada@example.com")
    assert "Your card was declined." in checkout.payment_error()
    assert client.v1.checkout.sessions.retrieve(session.id).status == "open"
