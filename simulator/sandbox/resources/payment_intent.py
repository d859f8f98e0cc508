"""PaymentIntents (https://docs.stripe.com/api/payment_intents) paid by card, bank debit
or from the customer's cash balance (``bank_transfer.py``).

The status machine (https://docs.stripe.com/payments/paymentintents/lifecycle)::

    requires_payment_method -> requires_confirmation -> (confirm)
        -> requires_action        3-D Secure needed; completed on the sandbox's page
                                  (customer_balance: waiting for a bank transfer)
        -> requires_capture       capture_method=manual, authorized
        -> succeeded              captured
        -> requires_payment_method  declined (last_payment_error, a failed charge)
    any of the first four, requires_capture or processing -> canceled

Confirmation, shared by every entry point, and the 3-D Secure challenge live in
:mod:`.payment_confirmation`, and the typed requests the operations take in
:mod:`.payment_intent_requests`; this module keeps the object, applies the requests and
re-exports the confirmation names (``Attempt``, ``confirm_payment``, ...) its callers use.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from simulator.sandbox import versions
from simulator.sandbox.errors import InvalidRequestError, parameter_unknown
from simulator.sandbox.params import apply_metadata
from simulator.sandbox.resources import bank_transfer
from simulator.sandbox.resources import charge as charges
from simulator.sandbox.resources import dispute as disputes
from simulator.sandbox.resources.balance_transaction import format_amount
from simulator.sandbox.resources.base import (
    Ctx,
    StripeObject,
    filter_value,
    find,
    load,
    previous_attributes,
    save,
)
from simulator.sandbox.resources.common import UNSET, Cancellation
from simulator.sandbox.resources.customer import Customer
from simulator.sandbox.resources.payment_confirmation import (
    CONFIRMABLE,
    Status,
    check_usable,
    complete_authentication,
    confirm_payment,
)
from simulator.sandbox.resources.payment_confirmation import Attempt as Attempt
from simulator.sandbox.resources.payment_confirmation import Gate as Gate
from simulator.sandbox.resources.payment_confirmation import (
    authentication_gate as authentication_gate,
)
from simulator.sandbox.resources.payment_confirmation import (
    confirm_with_payment_method as confirm_with_payment_method,
)
from simulator.sandbox.resources.payment_intent_requests import (
    PaymentDetails,
    PaymentIntentCapture,
    PaymentIntentConfirm,
    PaymentIntentCreate,
    PaymentIntentUpdate,
    PaymentMethodTypes,
    PaymentOptions,
)
from simulator.sandbox.resources.payment_method import PaymentMethod, chosen_payment_method

UPDATABLE = CONFIRMABLE
CANCELABLE: tuple[Status, ...] = (
    "requires_payment_method", "requires_capture", "requires_confirmation", "requires_action",
    "processing",
)
CANCELLATION_REASONS = ("duplicate", "fraudulent", "requested_by_customer", "abandoned")
ASYNC_CAPTURE_DEFAULT_SINCE = "2024-04-10"
MAX_AMOUNT = 99_999_999

# https://docs.stripe.com/currencies#minimum-and-maximum-charge-amounts
MINIMUM_AMOUNTS = {
    "usd": 50, "aed": 200, "aud": 50, "bgn": 100, "brl": 50, "cad": 50, "chf": 50,
    "czk": 1500, "dkk": 250, "eur": 50, "gbp": 30, "hkd": 400, "huf": 17500, "inr": 50,
    "jpy": 50, "mxn": 1000, "myr": 200, "nok": 300, "nzd": 50, "pln": 200, "ron": 200,
    "sek": 300, "sgd": 50, "thb": 1000,
}
@dataclass(kw_only=True)
class PaymentIntent(StripeObject):
    OBJECT = "payment_intent"
    PREFIX = "pi"
    NOUN = "payment_intent"
    FILTERS = ("customer", "awaiting_funds")
    EXPANDABLE = frozenset(
        {"application", "customer", "latest_charge", "on_behalf_of", "payment_method", "review"}
    )

    amount: int
    currency: str
    client_secret: str
    status: Status = "requires_payment_method"
    capture_method: str = "automatic_async"
    confirmation_method: str = "automatic"
    customer: str | None = None
    payment_method: str | None = None
    description: str | None = None
    receipt_email: str | None = None
    setup_future_usage: str | None = None
    shipping: dict[str, Any] | None = None
    statement_descriptor: str | None = None
    statement_descriptor_suffix: str | None = None
    transfer_group: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    latest_charge: str | None = None
    last_payment_error: dict[str, Any] | None = None
    amount_capturable: int = 0
    amount_received: int = 0
    canceled_at: int | None = None
    cancellation_reason: str | None = None
    automatic_payment_methods: dict[str, Any] | None = None
    payment_method_types: list[str] = field(default_factory=lambda: ["card"])
    allowed_payment_method_types: list[str] | None = None
    excluded_payment_method_types: list[str] | None = None
    card_options: dict[str, str] = field(default_factory=dict)
    return_url: str | None = None
    return_url_required: bool = False  # redirect-capable methods were explicitly enabled
    authenticated_with: str | None = None  # the PaymentMethod that passed 3-D Secure
    # customer_balance: payment_method_options[customer_balance] as given, the bank transfer
    # instructions once confirmed, and how much of the cash balance it has taken so far.
    balance_options: dict[str, Any] | None = None
    funding: dict[str, Any] | None = None
    cash_applied: int = 0

    def index(self) -> dict[str, str | None]:
        # Only the waiting few have the filter: most PaymentIntents write no filter row.
        return {"customer": self.customer,
                "awaiting_funds": filter_value(self.awaiting_funds or None)}

    @property
    def awaiting_funds(self) -> bool:
        return self.status == "requires_action" and self.funding is not None

    @property
    def effective_capture_method(self) -> str:
        return self.card_options.get("capture_method") or self.capture_method

    def next_action(self, ctx: Ctx) -> dict[str, Any] | None:
        if self.status != "requires_action":
            return None
        if self.funding is not None:
            return bank_transfer.next_action(self)
        url = f"{ctx.base_url}/_sandbox/three_d_secure/{self.id}"
        return {
            "redirect_to_url": {"return_url": self.return_url, "url": url},
            "type": "redirect_to_url",
        }

    def payment_method_options(self) -> dict[str, Any]:
        card: dict[str, Any] = {
            "installments": None,
            "mandate_options": None,
            "network": None,
            "request_three_d_secure": self.card_options.get("request_three_d_secure",
                                                            "automatic"),
        }
        for name in ("capture_method", "setup_future_usage"):
            if name in self.card_options:
                card[name] = self.card_options[name]
        options: dict[str, Any] = {}
        if self.automatic_payment_methods is not None or "card" in self.payment_method_types:
            options["card"] = card
        if self.balance_options is not None or (
                bank_transfer.METHOD in self.payment_method_types):
            options[bank_transfer.METHOD] = bank_transfer.shown_options(self.balance_options)
        return options

    def serialize(self, ctx: Ctx) -> dict[str, Any]:
        data = {
            "id": self.id,
            "object": "payment_intent",
            "amount": self.amount,
            "amount_capturable": self.amount_capturable,
            "amount_details": {"tip": {}},
            "amount_received": self.amount_received,
            "application": None,
            "application_fee_amount": None,
            "automatic_payment_methods": self.automatic_payment_methods,
            "canceled_at": self.canceled_at,
            "cancellation_reason": self.cancellation_reason,
            "capture_method": self.capture_method,
            "client_secret": self.client_secret,
            "confirmation_method": self.confirmation_method,
            "created": self.created,
            "currency": self.currency,
            "customer": self.customer,
            "description": self.description,
            "last_payment_error": self.last_payment_error,
            "latest_charge": self.latest_charge,
            "livemode": False,
            "metadata": dict(self.metadata),
            "next_action": self.next_action(ctx),
            "on_behalf_of": None,
            "payment_method": self.payment_method,
            "payment_method_configuration_details": None,
            "payment_method_options": self.payment_method_options(),
            "payment_method_types": list(self.payment_method_types),
            "processing": None,
            "receipt_email": self.receipt_email,
            "review": None,
            "setup_future_usage": self.setup_future_usage,
            "shipping": self.shipping,
            "statement_descriptor": self.statement_descriptor,
            "statement_descriptor_suffix": self.statement_descriptor_suffix,
            "status": self.status,
            "transfer_data": None,
            "transfer_group": self.transfer_group,
            "source": None,
            "excluded_payment_method_types": self.excluded_payment_method_types,
            "customer_account": None,
            "managed_payments": None,
        }
        if versions.at_least(ctx.api_version, "endive"):
            data["allowed_payment_method_types"] = self.allowed_payment_method_types
        return data

    def unexpected_state(self, ctx: Ctx, message: str, param: str | None = None
                         ) -> InvalidRequestError:
        """Code ``payment_intent_unexpected_state``; Stripe's error carries the
        PaymentIntent, as its card errors do."""
        return InvalidRequestError(message, code="payment_intent_unexpected_state",
                                   param=param, extra={"payment_intent": self.serialize(ctx)})


# -- wrong-state errors (code payment_intent_unexpected_state) --------------------------
def _cannot_capture(ctx: Ctx, pi: PaymentIntent) -> InvalidRequestError:
    if pi.status == "succeeded":
        return pi.unexpected_state(ctx, "This PaymentIntent could not be captured because it"
                                    " has already been captured.")
    return pi.unexpected_state(
        ctx,
        f"This PaymentIntent could not be captured because it has a status of {pi.status}."
        " Only a PaymentIntent with one of the following statuses may be captured:"
        " requires_capture.",
    )


def _cannot_cancel(ctx: Ctx, pi: PaymentIntent) -> InvalidRequestError:
    return pi.unexpected_state(
        ctx,
        f"You cannot cancel this PaymentIntent because it has a status of {pi.status}. Only a"
        " PaymentIntent with one of the following statuses may be canceled:"
        f" {', '.join(CANCELABLE)}.",
    )


def _cannot_update(ctx: Ctx, pi: PaymentIntent, name: str) -> InvalidRequestError:
    return pi.unexpected_state(
        ctx,
        f"This PaymentIntent's {name} could not be updated because it has a status of"
        f" {pi.status}. You may only update the {name} of a PaymentIntent with one of the"
        f" following statuses: {', '.join(UPDATABLE)}.",
        param=name,
    )


# -- applying a request -----------------------------------------------------------------
def check_amount(amount: int, currency: str) -> None:
    minimum = MINIMUM_AMOUNTS.get(currency, 50)
    if amount < minimum:
        raise InvalidRequestError(
            f"Amount must be at least {format_amount(minimum, currency)} {currency}",
            code="amount_too_small", param="amount",
        )
    if amount > MAX_AMOUNT:
        raise InvalidRequestError(
            f"Amount must be no more than {format_amount(MAX_AMOUNT, currency)}",
            code="amount_too_large", param="amount",
        )


def _customer_id(ctx: Ctx, customer_id: str | None) -> str | None:
    if customer_id is None:
        return None
    return load(ctx, Customer, customer_id, "customer").id


def _set_details(pi: PaymentIntent, details: PaymentDetails) -> None:
    """Fields that only describe the payment; updatable in any status."""
    details.set_on(pi)
    pi.metadata = apply_metadata(pi.metadata, details.metadata)


def _set_payment_options(pi: PaymentIntent, options: PaymentOptions) -> None:
    if options.capture_method is not None:
        pi.capture_method = options.capture_method
    if options.setup_future_usage is not UNSET:
        pi.setup_future_usage = options.setup_future_usage
    pi.card_options = {**pi.card_options, **options.card}
    if options.customer_balance is not None:
        pi.balance_options = options.customer_balance


def _set_method_types(ctx: Ctx, pi: PaymentIntent, types: PaymentMethodTypes) -> None:
    """``automatic_payment_methods`` is on by default (since 2023-08-16);
    ``payment_method_types`` is accepted before endive, ``allowed_payment_method_types``
    replaces it (https://docs.stripe.com/changelog)."""
    if types.payment_method_types is not None and not versions.accepts_payment_method_types(
            ctx.api_version):
        raise parameter_unknown("payment_method_types")
    pi.excluded_payment_method_types = types.excluded_payment_method_types
    if types.listed:
        pi.payment_method_types = list(types.listed)
        pi.allowed_payment_method_types = types.allowed_payment_method_types
        return
    automatic = types.automatic_payment_methods
    redirects = automatic.allow_redirects if automatic is not None else None
    if automatic is None or automatic.enabled:
        pi.automatic_payment_methods = {"allow_redirects": redirects or "always", "enabled": True}
        pi.return_url_required = automatic is not None and redirects != "never"


# -- create, retrieve, update, list -----------------------------------------------------
def _new_payment_intent(ctx: Ctx, amount: int, currency: str) -> PaymentIntent:
    pi_id = f"pi_3{ctx.ids.sortable(23)}"
    capture = (
        "automatic_async"
        if ctx.api_version.split(".")[0] >= ASYNC_CAPTURE_DEFAULT_SINCE
        else "automatic"
    )
    return PaymentIntent(
        id=pi_id,
        created=ctx.now,
        amount=amount,
        currency=currency,
        client_secret=f"{pi_id}_secret_{ctx.ids.token(25)}",
        capture_method=capture,
    )


def create_payment_intent(ctx: Ctx, request: PaymentIntentCreate) -> PaymentIntent:
    check_amount(request.amount, request.currency)
    pi = _new_payment_intent(ctx, request.amount, request.currency)
    pi.customer = _customer_id(ctx, request.customer)
    pi.confirmation_method = request.confirmation_method
    _set_details(pi, request.details)
    _set_payment_options(pi, request.options)
    _set_method_types(ctx, pi, request.method_types)
    payment = chosen_payment_method(ctx, request.payment_method)
    if request.confirmation.return_url is not None:
        pi.return_url = request.confirmation.return_url
    if payment is not None:
        check_usable(pi, payment[0])
        pi.payment_method = payment[0].id
        pi.status = "requires_confirmation"
    ctx.emit("payment_intent.created", pi)
    if request.confirm:
        return confirm_payment(ctx, pi, payment, request.confirmation.attempt)
    if payment is not None and payment[1]:
        save(ctx, payment[0])
    save(ctx, pi)
    return pi


def retrieve_payment_intent(ctx: Ctx, pi_id: str) -> PaymentIntent:
    return load(ctx, PaymentIntent, pi_id)


def update_payment_intent(ctx: Ctx, pi_id: str, request: PaymentIntentUpdate) -> PaymentIntent:
    pi = load(ctx, PaymentIntent, pi_id)
    if request.locked and pi.status not in UPDATABLE:
        raise _cannot_update(ctx, pi, request.locked[0])
    _update_amount(pi, request.amount, request.currency)
    _update_customer(ctx, pi, request.customer)
    _set_details(pi, request.details)
    _set_payment_options(pi, request.options)
    pi.excluded_payment_method_types = (
        request.excluded_payment_method_types or pi.excluded_payment_method_types
    )
    payment = chosen_payment_method(ctx, request.payment_method)
    if payment is not None:
        _use_payment_method(ctx, pi, *payment)
    save(ctx, pi)
    return pi


def _update_amount(pi: PaymentIntent, amount: int | None, currency: str | None) -> None:
    if amount is None and currency is None:
        return
    pi.amount = amount if amount is not None else pi.amount
    pi.currency = currency or pi.currency
    check_amount(pi.amount, pi.currency)


def _update_customer(ctx: Ctx, pi: PaymentIntent, customer_id: str | None) -> None:
    customer = _customer_id(ctx, customer_id)
    if customer is None or customer == pi.customer:
        return
    if pi.customer is not None:
        raise InvalidRequestError(
            "You cannot modify `customer` on a PaymentIntent once it already has been set. To"
            " fulfill a payment with a different Customer, cancel this PaymentIntent and create"
            " a new one.", param="customer")
    pi.customer = customer


def _use_payment_method(ctx: Ctx, pi: PaymentIntent, pm: PaymentMethod, fresh: bool) -> None:
    """A new PaymentMethod puts the PaymentIntent back to ``requires_confirmation``."""
    check_usable(pi, pm)
    if fresh:
        save(ctx, pm)
    pi.payment_method = pm.id
    pi.status = "requires_confirmation"


# -- confirmation (the machinery is in payment_confirmation) ----------------------------
def confirm_payment_intent(ctx: Ctx, pi_id: str, request: PaymentIntentConfirm
                           ) -> PaymentIntent:
    """``POST /v1/payment_intents/{id}/confirm``: apply the confirmation's changes, then
    confirm (raising the CardError of a decline after recording it)."""
    pi = load(ctx, PaymentIntent, pi_id)
    payment = chosen_payment_method(ctx, request.payment_method)
    _set_details(pi, request.details)
    _set_payment_options(pi, request.options)
    if request.confirmation.return_url is not None:
        pi.return_url = request.confirmation.return_url
    return confirm_payment(ctx, pi, payment, request.confirmation.attempt)


def complete_three_d_secure(
    ctx: Ctx, payment_intent_id: str, outcome: Literal["authenticate", "fail"]
) -> PaymentIntent:
    """The customer passes or fails the challenge on the sandbox's authentication page."""
    return complete_authentication(ctx, load(ctx, PaymentIntent, payment_intent_id), outcome)


# -- capture and cancel -----------------------------------------------------------------
def capture_payment_intent(ctx: Ctx, pi_id: str, request: PaymentIntentCapture
                           ) -> PaymentIntent:
    """Capture all or part of an authorization
    (https://docs.stripe.com/payments/place-a-hold-on-a-payment-method)."""
    pi = load(ctx, PaymentIntent, pi_id)
    _set_details(pi, request.details)
    if pi.status != "requires_capture":
        raise _cannot_capture(ctx, pi)
    amount = request.amount_to_capture
    amount = pi.amount_capturable if amount is None else amount
    if amount > pi.amount_capturable:
        raise InvalidRequestError(
            "The payment could not be captured because the requested capture amount is greater"
            " than the amount you can capture for this charge.",
            code="amount_too_large", param="amount_to_capture")
    assert pi.latest_charge is not None
    charge = load(ctx, charges.Charge, pi.latest_charge)
    before = charge.serialize(ctx)
    charges.capture(ctx, charge, amount)
    save(ctx, charge)
    pi.status, pi.amount_received, pi.amount_capturable = "succeeded", amount, 0
    save(ctx, pi)
    ctx.emit("charge.captured", charge, previous_attributes(before, charge.serialize(ctx)))
    ctx.emit("payment_intent.succeeded", pi)
    disputes.open_dispute(ctx, charge)
    return pi


def cancel_payment_intent(ctx: Ctx, pi_id: str, request: Cancellation) -> PaymentIntent:
    """Cancel; an authorization is released, which Stripe reports as a refunded charge."""
    pi = load(ctx, PaymentIntent, pi_id)
    reason = request.reason
    if pi.status not in CANCELABLE:
        raise _cannot_cancel(ctx, pi)
    if pi.status == "requires_capture" and pi.latest_charge:
        _release_authorization(ctx, pi.latest_charge)
    bank_transfer.release_cash(ctx, pi)
    pi.status = "canceled"
    pi.canceled_at = ctx.now
    pi.cancellation_reason = reason
    pi.amount_capturable = 0
    save(ctx, pi)
    ctx.emit("payment_intent.canceled", pi)
    return pi


def _release_authorization(ctx: Ctx, charge_id: str) -> None:
    charge = find(ctx, charges.Charge, charge_id)
    if charge is None:
        return
    before = charge.serialize(ctx)
    charges.release(charge)
    save(ctx, charge)
    ctx.emit("charge.refunded", charge, previous_attributes(before, charge.serialize(ctx)))
