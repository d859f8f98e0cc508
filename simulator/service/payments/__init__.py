"""Story 12.1: the winner of an auction pays through Stripe Checkout within 24 hours.

``PaymentService`` is the one place payment rules meet the outside world. Stripe is
the source of truth for money: the service never sees a card (PCI SAQ A), learns about
payments from signed webhooks (https://docs.stripe.com/checkout/fulfillment), and re-reads
Stripe whenever it must decide without one (the buyer's return, a missed webhook, the
window's end).

Never losing or doubling a payment rests on three things:

- Every handler re-reads state inside ``BEGIN IMMEDIATE`` and exits early when its work
  is done, so duplicate, concurrent and reordered deliveries converge
  (https://docs.stripe.com/webhooks#handle-duplicate-events,
  https://docs.stripe.com/webhooks#event-ordering).
- UNIQUE constraints hold the invariants even against a bug: one transaction per
  PaymentIntent, one order per win, one live payment session per win.
- Everything a change causes (audit entry, queued mail, jobs) is written in the change's
  own transaction; mail and receipts are produced after the commit, by durable jobs.

The package, by purpose:

- ``service``: the ``PaymentService`` façade, the single entry point;
- ``checkout``: starting, retrying and returning from a Checkout Session;
- ``events``: Stripe's webhook events and their handlers;
- ``outcomes``: recording payments, failures, expiry and refunds;
- ``jobs``: the timed rules, mail and receipts;
- ``views``: what a buyer sees of a payment;
- ``context``, ``ports``, ``errors``: the collaborators, their interfaces, the refusals.
"""

from __future__ import annotations

from simulator.service.payments.checkout import (
    CANCEL_PATH,
    CHECKOUT_FAILED,
    EXPIRY_GRACE_SECONDS,
    SUCCESS_PATH,
    UNAVAILABLE,
    CheckoutStarted,
)
from simulator.service.payments.context import ALERT_QUIET_SECONDS, STRIPE_OPEN, PaymentContext
from simulator.service.payments.errors import HTTP_STATUS, PaymentRefused
from simulator.service.payments.jobs import (
    EXPIRY_RECHECK_SECONDS,
    PROCESSING_RECHECK_SECONDS,
    REMINDER_MOOT,
)
from simulator.service.payments.ports import (
    Gateway,
    MailSender,
    ReceiptRenderer,
    Receipts,
    render_pdf_receipt,
)
from simulator.service.payments.service import PaymentService
from simulator.service.payments.views import RECEIPT_PATH, PaymentStatusView

__all__ = [
    "ALERT_QUIET_SECONDS",
    "CANCEL_PATH",
    "CHECKOUT_FAILED",
    "EXPIRY_GRACE_SECONDS",
    "EXPIRY_RECHECK_SECONDS",
    "HTTP_STATUS",
    "PROCESSING_RECHECK_SECONDS",
    "RECEIPT_PATH",
    "REMINDER_MOOT",
    "STRIPE_OPEN",
    "SUCCESS_PATH",
    "UNAVAILABLE",
    "CheckoutStarted",
    "Gateway",
    "MailSender",
    "PaymentContext",
    "PaymentRefused",
    "PaymentService",
    "PaymentStatusView",
    "ReceiptRenderer",
    "Receipts",
    "render_pdf_receipt",
]
