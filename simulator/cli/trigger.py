"""``stripe-sim trigger EVENT``: create the objects that make the sandbox emit EVENT, as
``stripe trigger`` does against Stripe (https://docs.stripe.com/cli/trigger)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

import stripe

from simulator.cli.command import Command

Recipe = Callable[[stripe.StripeClient, str], list[Any]]
LINE_ITEM = {"quantity": 1, "price_data": {"currency": "usd", "unit_amount": 3000,
                                           "product_data": {"name": "T-shirt"}}}


def _intent(client: stripe.StripeClient, pm: str, **extra: Any) -> Any:
    params = {"amount": 2000, "currency": "usd", "payment_method": pm, "confirm": True, **extra}
    try:
        return client.v1.payment_intents.create(params=params)  # type: ignore[arg-type]
    except stripe.CardError as declined:
        return declined.json_body["error"]["payment_intent"]  # type: ignore[index]


def _succeeded(client: stripe.StripeClient, base: str) -> list[Any]:
    return [_intent(client, "pm_card_visa")]


def _failed(client: stripe.StripeClient, base: str) -> list[Any]:
    return [_intent(client, "pm_card_visa_chargeDeclined")]


def _requires_action(client: stripe.StripeClient, base: str) -> list[Any]:
    return [_intent(client, "pm_card_authenticationRequired")]


def _capturable(client: stripe.StripeClient, base: str) -> list[Any]:
    return [_intent(client, "pm_card_visa", capture_method="manual")]


def _captured(client: stripe.StripeClient, base: str) -> list[Any]:
    intent = _intent(client, "pm_card_visa", capture_method="manual")
    return [client.v1.payment_intents.capture(intent.id)]


def _canceled(client: stripe.StripeClient, base: str) -> list[Any]:
    intent = client.v1.payment_intents.create(params={"amount": 2000, "currency": "usd"})
    return [client.v1.payment_intents.cancel(intent.id)]


def _refunded(client: stripe.StripeClient, base: str) -> list[Any]:
    intent = _intent(client, "pm_card_visa")
    return [intent, client.v1.refunds.create(params={"payment_intent": intent.id})]


def _session(client: stripe.StripeClient) -> Any:
    params: dict[str, Any] = {"mode": "payment", "success_url": "https://example.com/success",
                              "line_items": [LINE_ITEM]}
    return client.v1.checkout.sessions.create(params=params)  # type: ignore[arg-type]


def _session_completed(client: stripe.StripeClient, base: str) -> list[Any]:
    session = _session(client)
    pm = client.v1.payment_methods.create(params={
        "type": "card", "card": {"token": "tok_visa"},
        "billing_details": {"email": "stripe@example.com", "name": "Jenny Rosen"}})
    # The private endpoint Stripe's own Checkout page (and the Stripe CLI) pays through.
    client.raw_request("post", f"/v1/payment_pages/{session.id}/confirm",
                       payment_method=pm.id, expected_amount=3000)
    return [pm, client.v1.checkout.sessions.retrieve(session.id)]


def _session_expired(client: stripe.StripeClient, base: str) -> list[Any]:
    return [client.v1.checkout.sessions.expire(_session(client).id)]


def _customer_created(client: stripe.StripeClient, base: str) -> list[Any]:
    return [client.v1.customers.create(params={"email": "jenny@example.com"})]


def _customer_updated(client: stripe.StripeClient, base: str) -> list[Any]:
    customer = client.v1.customers.create(params={"email": "jenny@example.com"})
    return [client.v1.customers.update(customer.id, params={"metadata": {"foo": "bar"}})]


def _customer_deleted(client: stripe.StripeClient, base: str) -> list[Any]:
    customer = client.v1.customers.create(params={"email": "jenny@example.com"})
    return [client.v1.customers.delete(customer.id)]


def _product_created(client: stripe.StripeClient, base: str) -> list[Any]:
    product = client.v1.products.create(params={"name": "myproduct"})
    price = client.v1.prices.create(
        params={"product": product.id, "unit_amount": 1500, "currency": "usd"})
    return [product, price]


def _attached(client: stripe.StripeClient, base: str) -> list[Any]:
    customer = client.v1.customers.create(params={"email": "jenny@example.com"})
    pm = client.v1.payment_methods.create(params={"type": "card", "card": {"token": "tok_visa"}})
    return [customer, client.v1.payment_methods.attach(pm.id, params={"customer": customer.id})]


RECIPES: dict[str, Recipe] = {
    "payment_intent.created": _canceled,
    "payment_intent.succeeded": _succeeded,
    "payment_intent.payment_failed": _failed,
    "payment_intent.requires_action": _requires_action,
    "payment_intent.amount_capturable_updated": _capturable,
    "payment_intent.canceled": _canceled,
    "charge.succeeded": _succeeded,
    "charge.failed": _failed,
    "charge.captured": _captured,
    "charge.refunded": _refunded,
    "refund.created": _refunded,
    "checkout.session.completed": _session_completed,
    "checkout.session.expired": _session_expired,
    "customer.created": _customer_created,
    "customer.updated": _customer_updated,
    "customer.deleted": _customer_deleted,
    "product.created": _product_created,
    "price.created": _product_created,
    "payment_method.attached": _attached,
}


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("event", help="the event to trigger, e.g. payment_intent.succeeded")
    parser.add_argument("--api-base", default="http://127.0.0.1:12111")
    parser.add_argument("--api-key", default="sk_test_stripe_sim_cli")


def run(args: argparse.Namespace) -> int:
    recipe = RECIPES.get(args.event)
    if recipe is None:
        print(f"Unsupported event: {args.event}. Supported events:")
        for name in sorted(RECIPES):
            print(f"  {name}")
        return 2
    base = args.api_base.rstrip("/")
    client = stripe.StripeClient(args.api_key, base_addresses={"api": base})
    print(f"Setting up fixture for: {args.event}")
    for created in recipe(client, base):
        status = f" ({created['status']})" if "status" in created else ""
        print(f"  created {created['object']} {created['id']}{status}")
    print(f"Trigger succeeded! The sandbox emitted {args.event}; see {base}/v1/events")
    return 0


TRIGGER = Command("trigger", "Create the objects that emit an event, like `stripe trigger`.",
                  configure, run)
