"""The load run's personas, one user class each (``stripe-sim load --persona``):

- ``Buyer`` (buyer): wins a lot, pays through Checkout, waits for the receipt;
- ``WebhookStorm`` (webhooks): signed deliveries about real payments, with duplicates,
  reordering and bad signatures;
- ``StripeApiClient`` (stripe_api): PaymentIntents and Checkout Sessions at the sandbox.

Run it through ``stripe-sim load``, which starts (or finds) the servers, seeds buyers,
hands Locust the plan, and checks the databases afterwards."""

from load import common  # noqa: F401  (the plan argument and the progress line)
from load.buyer import Buyer
from load.stripe_api import StripeApiClient
from load.webhooks import WebhookStorm

PERSONAS = {"buyer": Buyer, "webhooks": WebhookStorm, "stripe_api": StripeApiClient}

__all__ = ["PERSONAS", "Buyer", "StripeApiClient", "WebhookStorm"]
