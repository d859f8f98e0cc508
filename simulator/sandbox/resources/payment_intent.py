"""PaymentIntents (https://docs.stripe.com/api/payment_intents) paid by card.

The status machine (https://docs.stripe.com/payments/paymentintents/lifecycle)::

    requires_payment_method -> requires_confirmation -> (confirm)
        -> requires_action        3-D Secure needed; completed on the sandbox's page
        -> requires_capture       capture_method=manual, authorized
        -> succeeded              captured
        -> requires_payment_method  declined (last_payment_error, a failed charge)
    any of the first four, requires_capture or processing -> canceled

Confirmation is :func:`confirm_with_payment_method`, a function of a PaymentIntent and a
PaymentMethod that every entry point shares (the API's ``confirm``, ``create`` with
``confirm=true``, the 3-D Secure page through :func:`complete_three_d_secure`, and hosted
checkout). A decline is recorded (failed charge, ``last_payment_error``, events) and then
returned as the CardError that the API answers with 402; the request's transaction
commits that record, as Stripe's does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Literal

from simulator.sandbox import cards, versions
from simulator.sandbox.errors import (
    DOC_URL,
    CardError,
    InvalidRequestError,
    parameter_unknown,
    resource_missing,
)
from simulator.sandbox.params import Params, apply_metadata, invalid_enum
from simulator.sandbox.resources import charge as charges
from simulator.sandbox.resources.balance_transaction import format_amount
from simulator.sandbox.resources.base import (
    Ctx,
    StripeObject,
    find,
    load,
    previous_attributes,
    register,
    save,
)
from simulator.sandbox.resources.common import read_shipping
from simulator.sandbox.resources.customer import Customer
from simulator.sandbox.resources.payment_method import (
    CONSUMED_MESSAGE,
    PaymentMethod,
    build_payment_method,
    resolve_payment_method,
)

Status = Literal[
    "requires_payment_method",
    "requires_confirmation",
    "requires_action",
    "processing",
    "requires_capture",
    "canceled",
    "succeeded",
]
CONFIRMABLE: tuple[Status, ...] = (
    "requires_payment_method", "requires_confirmation", "requires_action"
)
UPDATABLE = CONFIRMABLE
CANCELABLE: tuple[Status, ...] = (
    "requires_payment_method", "requires_capture", "requires_confirmation", "requires_action",
    "processing",
)
CAPTURE_METHODS = ("automatic", "automatic_async", "manual")
CONFIRMATION_METHODS = ("automatic", "manual")
CANCELLATION_REASONS = ("duplicate", "fraudulent", "requested_by_customer", "abandoned")
SETUP_FUTURE_USAGE = ("off_session", "on_session")
REQUEST_THREE_D_SECURE = ("automatic", "any", "challenge")
ASYNC_CAPTURE_DEFAULT_SINCE = "2024-04-10"
MAX_AMOUNT = 99_999_999

# https://docs.stripe.com/currencies#minimum-and-maximum-charge-amounts
MINIMUM_AMOUNTS = {
    "usd": 50, "aed": 200, "aud": 50, "bgn": 100, "brl": 50, "cad": 50, "chf": 50,
    "czk": 1500, "dkk": 250, "eur": 50, "gbp": 30, "hkd": 400, "huf": 17500, "inr": 50,
    "jpy": 50, "mxn": 1000, "myr": 200, "nok": 300, "nzd": 50, "pln": 200, "ron": 200,
    "sek": 300, "sgd": 50, "thb": 1000,
}

MISSING_PAYMENT_METHOD = (
    "You cannot confirm this PaymentIntent because it's missing a payment method. You can"
    " either update the PaymentIntent with a payment method and then confirm it again, or"
    " confirm it again directly with a payment method or ConfirmationToken."
)
AUTHENTICATION_FAILED = (
    "The provided PaymentMethod has failed authentication. You can provide"
    " payment_method_data or a new PaymentMethod to attempt to fulfill this PaymentIntent"
    " again."
)
RETURN_URL_REQUIRED = (
    "A `return_url` must be specified because this Payment Intent is configured to"
    " automatically accept the payment methods enabled in the Dashboard, some of which may"
    " require a full page redirect to succeed. If you do not want to accept redirect-based"
    " payment methods, set `automatic_payment_methods[enabled]` to `true` and"
    " `automatic_payment_methods[allow_redirects]` to `never` when creating Setup Intents and"
    " Payment Intents."
)
CONFIRM_ONLY_PARAMS = ("return_url", "off_session", "error_on_requires_action", "mandate_data")


@register
@dataclass(kw_only=True)
class PaymentIntent(StripeObject):
    OBJECT = "payment_intent"
    PREFIX = "pi"
    NOUN = "payment_intent"
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

    def index(self) -> dict[str, str | None]:
        return {"customer": self.customer}

    @property
    def effective_capture_method(self) -> str:
        return self.card_options.get("capture_method") or self.capture_method

    def next_action(self, ctx: Ctx) -> dict[str, Any] | None:
        if self.status != "requires_action":
            return None
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
        return {"card": card}

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


# -- wrong-state errors (code payment_intent_unexpected_state) --------------------------
def _unexpected_state(ctx: Ctx, pi: PaymentIntent, message: str, param: str | None = None
                      ) -> InvalidRequestError:
    """Stripe's error carries the PaymentIntent, as its card errors do."""
    return InvalidRequestError(message, code="payment_intent_unexpected_state", param=param,
                               extra={"payment_intent": pi.serialize(ctx)})


def _cannot_confirm(ctx: Ctx, pi: PaymentIntent) -> InvalidRequestError:
    if pi.status == "succeeded":
        return _unexpected_state(ctx, pi, "You cannot confirm this PaymentIntent because it has"
                                 " already succeeded after being previously confirmed.")
    return _unexpected_state(
        ctx, pi,
        f"You cannot confirm this PaymentIntent because it has a status of {pi.status}. Only a"
        " PaymentIntent with one of the following statuses may be confirmed:"
        f" {', '.join(CONFIRMABLE)}.",
    )


def _cannot_capture(ctx: Ctx, pi: PaymentIntent) -> InvalidRequestError:
    if pi.status == "succeeded":
        return _unexpected_state(ctx, pi, "This PaymentIntent could not be captured because it"
                                 " has already been captured.")
    return _unexpected_state(
        ctx, pi,
        f"This PaymentIntent could not be captured because it has a status of {pi.status}."
        " Only a PaymentIntent with one of the following statuses may be captured:"
        " requires_capture.",
    )


def _cannot_cancel(ctx: Ctx, pi: PaymentIntent) -> InvalidRequestError:
    return _unexpected_state(
        ctx, pi,
        f"You cannot cancel this PaymentIntent because it has a status of {pi.status}. Only a"
        " PaymentIntent with one of the following statuses may be canceled:"
        f" {', '.join(CANCELABLE)}.",
    )


def _cannot_update(ctx: Ctx, pi: PaymentIntent, name: str) -> InvalidRequestError:
    return _unexpected_state(
        ctx, pi,
        f"This PaymentIntent's {name} could not be updated because it has a status of"
        f" {pi.status}. You may only update the {name} of a PaymentIntent with one of the"
        f" following statuses: {', '.join(UPDATABLE)}.",
        param=name,
    )


# -- reading parameters -----------------------------------------------------------------
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


def _read_customer(ctx: Ctx, params: Params) -> str | None:
    customer_id = params.string("customer")
    if customer_id is None:
        return None
    return load(ctx, Customer, customer_id, "customer").id


def _read_details(pi: PaymentIntent, params: Params) -> None:
    """Fields that only describe the payment; updatable in any status."""
    for name, limit in (("description", 1000), ("receipt_email", 800), ("transfer_group", 5000),
                        ("statement_descriptor", 22), ("statement_descriptor_suffix", 22)):
        if name in params:
            setattr(pi, name, params.string(name, max_length=limit))
    if "shipping" in params:
        pi.shipping = read_shipping(params.hash("shipping"))
    pi.metadata = apply_metadata(pi.metadata, params.metadata())


def _read_payment_options(pi: PaymentIntent, params: Params) -> None:
    """``capture_method``, ``setup_future_usage`` and ``payment_method_options[card]``."""
    if (capture := params.enum("capture_method", CAPTURE_METHODS)) is not None:
        pi.capture_method = capture
    if "setup_future_usage" in params:
        value = params.string("setup_future_usage")
        if value is not None and value not in SETUP_FUTURE_USAGE:
            raise invalid_enum("setup_future_usage", value, list(SETUP_FUTURE_USAGE))
        pi.setup_future_usage = value
    options = params.hash("payment_method_options")
    if options is None:
        return
    for other in options.keys():  # noqa: SIM118 (Params is not a mapping)
        if other != "card":
            options.raw(other)  # other payment method types never apply to a card payment
    card = options.hash("card")
    if card is not None:
        pi.card_options = {**pi.card_options, **_read_card_options(card)}


def _read_card_options(card: Params) -> dict[str, str]:
    read: dict[str, str] = {}
    for name, choices in (("request_three_d_secure", REQUEST_THREE_D_SECURE),
                          ("capture_method", ("manual",)),
                          ("setup_future_usage", ("none", *SETUP_FUTURE_USAGE))):
        if (value := card.enum(name, choices)) is not None:
            read[name] = value
    for ignored in ("installments", "mandate_options", "network", "cvc_token", "moto",
                    "require_cvc_recollection", "statement_descriptor_suffix_kana"):
        card.raw(ignored)
    return read


def _read_method_types(ctx: Ctx, pi: PaymentIntent, params: Params) -> None:
    """``automatic_payment_methods`` is on by default (since 2023-08-16);
    ``payment_method_types`` is accepted before endive, ``allowed_payment_method_types``
    replaces it (https://docs.stripe.com/changelog)."""
    if not versions.accepts_payment_method_types(ctx.api_version) and (
        params.peek("payment_method_types") is not None
    ):
        raise parameter_unknown("payment_method_types")
    types = params.strings("payment_method_types")
    allowed = params.strings("allowed_payment_method_types")
    pi.excluded_payment_method_types = params.strings("excluded_payment_method_types")
    automatic = params.hash("automatic_payment_methods")
    if automatic is not None and (types or allowed):
        raise InvalidRequestError(
            "You may only specify one of these parameters: automatic_payment_methods,"
            " payment_method_types.", param="automatic_payment_methods")
    if types or allowed:
        pi.payment_method_types = list(types or allowed or [])
        pi.allowed_payment_method_types = allowed
        return
    enabled = automatic.boolean("enabled", required=True) if automatic is not None else True
    redirects = automatic.enum("allow_redirects", ("always", "never")) if automatic else None
    if enabled:
        pi.automatic_payment_methods = {"allow_redirects": redirects or "always", "enabled": True}
        pi.return_url_required = automatic is not None and redirects != "never"


def _read_payment_method(ctx: Ctx, params: Params) -> tuple[PaymentMethod, bool] | None:
    """``payment_method`` (an id or a test id) or ``payment_method_data``; the bool says
    the PaymentMethod is new and still unsaved."""
    data = params.hash("payment_method_data")
    pm_id = params.string("payment_method")
    if data is not None and pm_id is not None:
        raise InvalidRequestError(
            "You cannot pass both `payment_method` and `payment_method_data`.",
            param="payment_method_data",
        )
    if data is not None:
        return build_payment_method(ctx, data), True
    if pm_id is not None:
        return resolve_payment_method(ctx, pm_id, "payment_method")
    return None


@dataclass(frozen=True)
class Attempt:
    """How one confirmation is made (not stored on the PaymentIntent)."""

    off_session: bool = False
    error_on_requires_action: bool = False


def _read_attempt(ctx: Ctx, pi: PaymentIntent, params: Params, *, confirming: bool,
                  creating: bool = False) -> Attempt:
    if creating and not confirming:
        for name in CONFIRM_ONLY_PARAMS:
            if params.peek(name) is not None:
                raise InvalidRequestError(
                    f"The parameter `{name}` cannot be passed when creating a PaymentIntent"
                    " unless `confirm` is set to true.", param=name)
    if (return_url := params.string("return_url")) is not None:
        pi.return_url = return_url
    if (token := params.string("confirmation_token")) is not None:
        raise resource_missing("confirmation_token", token, "confirmation_token")
    for ignored in ("mandate_data", "mandate", "radar_options"):
        params.raw(ignored)
    params.boolean("use_stripe_sdk")
    off_session = params.string("off_session")
    if off_session not in (None, "true", "false", "one_off", "recurring"):
        raise InvalidRequestError(f"Invalid off_session: {off_session}", param="off_session")
    return Attempt(
        off_session=off_session not in (None, "false"),
        error_on_requires_action=bool(params.boolean("error_on_requires_action")),
    )


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


def create_payment_intent(ctx: Ctx, params: Params) -> PaymentIntent:
    amount = params.required_integer("amount")
    currency = params.currency(required=True)
    assert currency is not None
    check_amount(amount, currency)
    pi = _new_payment_intent(ctx, amount, currency)
    pi.customer = _read_customer(ctx, params)
    pi.confirmation_method = params.enum("confirmation_method", CONFIRMATION_METHODS) or "automatic"
    _read_details(pi, params)
    _read_payment_options(pi, params)
    _read_method_types(ctx, pi, params)
    payment = _read_payment_method(ctx, params)
    confirm = bool(params.boolean("confirm"))
    attempt = _read_attempt(ctx, pi, params, confirming=confirm, creating=True)
    params.finish()
    if payment is not None:
        _check_usable(pi, payment[0])
        pi.payment_method = payment[0].id
        pi.status = "requires_confirmation"
    ctx.emit("payment_intent.created", pi)
    if confirm:
        return confirm_payment(ctx, pi, payment, attempt)
    if payment is not None and payment[1]:
        save(ctx, payment[0])
    save(ctx, pi)
    return pi


def retrieve_payment_intent(ctx: Ctx, pi_id: str, params: Params) -> PaymentIntent:
    params.string("client_secret")
    return load(ctx, PaymentIntent, pi_id)


def update_payment_intent(ctx: Ctx, pi_id: str, params: Params) -> PaymentIntent:
    pi = load(ctx, PaymentIntent, pi_id)
    for name in ("amount", "currency", "payment_method", "payment_method_data", "capture_method",
                 "setup_future_usage", "payment_method_options", "customer"):
        if params.peek(name) is not None and pi.status not in UPDATABLE:
            raise _cannot_update(ctx, pi, name)
    _update_amount(pi, params)
    _update_customer(ctx, pi, params)
    _read_details(pi, params)
    _read_payment_options(pi, params)
    pi.excluded_payment_method_types = (
        params.strings("excluded_payment_method_types") or pi.excluded_payment_method_types
    )
    payment = _read_payment_method(ctx, params)
    params.finish()
    if payment is not None:
        _use_payment_method(ctx, pi, *payment)
    save(ctx, pi)
    return pi


def _update_amount(pi: PaymentIntent, params: Params) -> None:
    amount = params.integer("amount")
    currency = params.currency()
    if amount is None and currency is None:
        return
    pi.amount = amount if amount is not None else pi.amount
    pi.currency = currency or pi.currency
    check_amount(pi.amount, pi.currency)


def _update_customer(ctx: Ctx, pi: PaymentIntent, params: Params) -> None:
    customer = _read_customer(ctx, params)
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
    _check_usable(pi, pm)
    if fresh:
        save(ctx, pm)
    pi.payment_method = pm.id
    pi.status = "requires_confirmation"


# -- confirmation -----------------------------------------------------------------------
def _check_usable(pi: PaymentIntent, pm: PaymentMethod) -> None:
    """A customer's PaymentMethod pays only that customer's PaymentIntents; one used
    without a customer, or detached, never pays again."""
    if pm.consumed:
        raise InvalidRequestError(CONSUMED_MESSAGE, param="payment_method")
    if pm.customer is not None and pi.customer is None:
        raise InvalidRequestError(
            f"The `payment_method` parameter supplied {pm.id} belongs to the Customer"
            f" {pm.customer}. Please include the Customer in the `customer` parameter on the"
            " PaymentIntent.", param="payment_method")
    if pm.customer is not None and pm.customer != pi.customer:
        raise InvalidRequestError(
            f"The customer does not have a payment method with the ID {pm.id}. The payment"
            " method must be attached to the customer.", param="payment_method")


def confirm_payment_intent(ctx: Ctx, pi: PaymentIntent, params: Params) -> PaymentIntent:
    """``POST /v1/payment_intents/{id}/confirm``: read the confirmation's parameters, then
    confirm (raising the CardError of a decline after recording it)."""
    payment = _read_payment_method(ctx, params)
    details = _subset(params, "receipt_email", "shipping")
    _read_details(pi, details)
    details.finish()
    _read_payment_options(pi, params)
    attempt = _read_attempt(ctx, pi, params, confirming=True)
    params.finish()
    return confirm_payment(ctx, pi, payment, attempt)


def confirm_payment(ctx: Ctx, pi: PaymentIntent, payment: tuple[PaymentMethod, bool] | None,
                    attempt: Attempt) -> PaymentIntent:
    """Confirm with ``payment`` (a PaymentMethod and whether it is new and unsaved) or
    the one already on ``pi``; saves both and raises the CardError of a decline. Every
    entry point (the API, the hosted checkout page) confirms through here."""
    if pi.status not in CONFIRMABLE:
        raise _cannot_confirm(ctx, pi)
    if payment is None and pi.payment_method is None:
        raise _unexpected_state(ctx, pi, MISSING_PAYMENT_METHOD)
    if payment is None:
        assert pi.payment_method is not None
        payment = (load(ctx, PaymentMethod, pi.payment_method, "payment_method"), False)
    pm, fresh = payment
    _check_usable(pi, pm)
    if pi.return_url_required and pi.return_url is None and not attempt.off_session:
        raise InvalidRequestError(RETURN_URL_REQUIRED)
    before = None if fresh else pm.state()
    failure = confirm_with_payment_method(ctx, pi, pm, attempt)
    save(ctx, pi)
    if fresh or pm.state() != before:
        save(ctx, pm)
    if failure is not None:
        raise failure
    return pi


class Gate(Enum):
    """Where 3-D Secure leaves a confirmation (https://docs.stripe.com/payments/3d-secure)."""

    PROCEED = "proceed"
    CHALLENGE = "challenge"
    FRICTIONLESS = "frictionless"
    AUTHENTICATED = "authenticated"
    OFF_SESSION_REFUSED = "off_session_refused"
    ATTEMPT_ERROR = "attempt_error"


def authentication_gate(pi: PaymentIntent, pm: PaymentMethod, attempt: Attempt) -> Gate:
    """Cards that require 3DS ask for it on session and are declined off session unless
    set up; any supporting card asks when ``request_three_d_secure`` is ``any`` or
    ``challenge`` (https://docs.stripe.com/payments/3d-secure/authentication-flow)."""
    three_ds = pm.profile().three_ds
    if pi.authenticated_with == pm.id:
        return Gate.AUTHENTICATED
    if three_ds is cards.ThreeDS.FRICTIONLESS:
        return Gate.FRICTIONLESS
    if attempt.off_session:
        refused = three_ds is cards.ThreeDS.REQUIRED or (
            three_ds is cards.ThreeDS.REQUIRED_UNLESS_SET_UP and pm.customer is None)
        return Gate.OFF_SESSION_REFUSED if refused else Gate.PROCEED
    if three_ds.required:
        return Gate.CHALLENGE
    requested = pi.card_options.get("request_three_d_secure") in ("any", "challenge")
    if requested and three_ds is cards.ThreeDS.OPTIONAL:
        return Gate.CHALLENGE
    if requested and three_ds is cards.ThreeDS.OPTIONAL_ERROR:
        return Gate.ATTEMPT_ERROR
    return Gate.PROCEED


def confirm_with_payment_method(
    ctx: Ctx, pi: PaymentIntent, pm: PaymentMethod, attempt: Attempt | None = None
) -> CardError | None:
    """Confirm ``pi`` with ``pm`` in memory (the caller saves both): ask for 3-D Secure,
    or authorize a charge. Returns the CardError of a decline, already recorded."""
    attempt = attempt or Attempt()
    pi.payment_method = pm.id
    pi.last_payment_error = None
    gate = authentication_gate(pi, pm, attempt)
    if gate is Gate.CHALLENGE and not attempt.error_on_requires_action:
        pi.status = "requires_action"
        ctx.emit("payment_intent.requires_action", pi)
        return None
    three_ds = None
    if gate in (Gate.FRICTIONLESS, Gate.AUTHENTICATED):
        flow: Literal["challenge", "frictionless"] = (
            "frictionless" if gate is Gate.FRICTIONLESS else "challenge")
        three_ds = charges.three_d_secure_details(ctx, pm.brand, flow)
    return _authorize(ctx, pi, pm, _decline_for(pm, gate), three_ds)


def _decline_for(pm: PaymentMethod, gate: Gate) -> cards.Decline | None:
    if gate in (Gate.OFF_SESSION_REFUSED, Gate.CHALLENGE):  # CHALLENGE: error_on_requires_action
        return cards.AUTHENTICATION_REQUIRED
    if gate is Gate.ATTEMPT_ERROR:
        return cards.PROCESSING_ERROR
    profile = pm.profile()
    decline = profile.decline or profile.decline_after_auth
    if decline is not None and decline.code == "incorrect_cvc" and not pm.cvc_provided:
        return None  # "Stripe skips the CVC check if it is omitted"
    return decline


def _charge_id(ctx: Ctx, pi: PaymentIntent) -> str:
    """A PaymentIntent's first charge shares its id's tail, as on Stripe."""
    if pi.latest_charge is None:
        return "ch_" + pi.id.removeprefix("pi_")
    return f"ch_3{ctx.ids.sortable(23)}"


def _authorize(ctx: Ctx, pi: PaymentIntent, pm: PaymentMethod, decline: cards.Decline | None,
               three_ds: dict[str, Any] | None) -> CardError | None:
    charge = charges.authorize(ctx, charge_id=_charge_id(ctx, pi), payment_intent=pi,
                               payment_method=pm, decline=decline, three_d_secure=three_ds)
    pi.latest_charge = charge.id
    if decline is not None:
        return _record_decline(ctx, pi, pm, charge, decline)
    _record_authorization(ctx, pi, pm, charge)
    return None


def _record_authorization(ctx: Ctx, pi: PaymentIntent, pm: PaymentMethod,
                          charge: charges.Charge) -> None:
    _keep_payment_method(ctx, pi, pm)
    if pi.effective_capture_method == "manual":
        pi.status = "requires_capture"
        pi.amount_capturable = pi.amount
        save(ctx, charge)
        ctx.emit("charge.succeeded", charge)
        ctx.emit("payment_intent.amount_capturable_updated", pi)
        return
    # automatic_async captures in the background on Stripe; the sandbox captures at once
    # so that the balance transaction is there when the response is.
    charges.capture(ctx, charge, pi.amount)
    pi.status = "succeeded"
    pi.amount_received = pi.amount
    save(ctx, charge)
    ctx.emit("charge.succeeded", charge)
    ctx.emit("payment_intent.succeeded", pi)


def _keep_payment_method(ctx: Ctx, pi: PaymentIntent, pm: PaymentMethod) -> None:
    """``setup_future_usage`` with a customer attaches the card once it is authorized
    (https://docs.stripe.com/payments/save-during-payment); otherwise a card used without
    a customer is spent."""
    if pm.customer is not None:
        return
    saving = pi.setup_future_usage or pi.card_options.get("setup_future_usage", "none") != "none"
    if pi.customer is not None and saving:
        before = pm.serialize(ctx)
        pm.customer = pi.customer
        ctx.emit("payment_method.attached", pm, previous_attributes(before, pm.serialize(ctx)))
    else:
        pm.consumed = True


def _payment_error(decline: cards.Decline, charge_id: str | None, pm: dict[str, Any],
                   error_type: str = "card_error") -> dict[str, Any]:
    """``last_payment_error``: the error the API answered with, and the PaymentMethod."""
    error: dict[str, Any] = {}
    if decline.advice_code:
        error["advice_code"] = decline.advice_code
    if charge_id:
        error["charge"] = charge_id
    error.update({"code": decline.code, "decline_code": decline.decline_code,
                  "doc_url": DOC_URL.format(code=decline.code.replace("_", "-")),
                  "message": decline.message})
    if decline.param:
        error["param"] = decline.param
    error.update({"payment_method": pm, "type": error_type})
    return error


def _record_decline(ctx: Ctx, pi: PaymentIntent, pm: PaymentMethod, charge: charges.Charge,
                    decline: cards.Decline) -> CardError:
    """Back to ``requires_payment_method`` with ``last_payment_error``; the failed charge
    and both events are kept (https://docs.stripe.com/declines)."""
    save(ctx, charge)
    pm_data = pm.serialize(ctx)
    pi.status = "requires_payment_method"
    pi.payment_method = None
    pi.authenticated_with = None
    pi.last_payment_error = _payment_error(decline, charge.id, pm_data)
    ctx.emit("charge.failed", charge)
    ctx.emit("payment_intent.payment_failed", pi)
    extra: dict[str, Any] = {"charge": charge.id}
    if decline.advice_code:
        extra["advice_code"] = decline.advice_code
    extra.update({"payment_intent": pi.serialize(ctx), "payment_method": pm_data})
    return CardError(decline.message, code=decline.code, param=decline.param,
                     decline_code=decline.decline_code, extra=extra)


# -- 3-D Secure, completed on the sandbox's authentication page --------------------------
def complete_three_d_secure(
    ctx: Ctx, payment_intent_id: str, outcome: Literal["authenticate", "fail"]
) -> PaymentIntent:
    """The customer passes or fails the challenge. Passing confirms the payment (or, with
    ``confirmation_method=manual``, waits for the server's confirm); failing returns the
    PaymentIntent to ``requires_payment_method`` with
    ``payment_intent_authentication_failure``."""
    pi = load(ctx, PaymentIntent, payment_intent_id)
    if pi.status != "requires_action" or pi.payment_method is None:
        raise _unexpected_state(
            ctx, pi, f"This PaymentIntent has no pending 3D Secure authentication; its status"
            f" is {pi.status}.")
    pm = load(ctx, PaymentMethod, pi.payment_method, "payment_method")
    before = pm.state()
    if outcome == "fail":
        _fail_authentication(ctx, pi, pm)
    elif pi.confirmation_method == "manual":
        pi.authenticated_with = pm.id
        pi.status = "requires_confirmation"
    else:
        pi.authenticated_with = pm.id
        confirm_with_payment_method(ctx, pi, pm)
    save(ctx, pi)
    if pm.state() != before:
        save(ctx, pm)
    return pi


def _fail_authentication(ctx: Ctx, pi: PaymentIntent, pm: PaymentMethod) -> None:
    failure = cards.Decline(code="payment_intent_authentication_failure", decline_code="",
                            message=AUTHENTICATION_FAILED)
    error = _payment_error(failure, None, pm.serialize(ctx), "invalid_request_error")
    del error["decline_code"]
    pi.status = "requires_payment_method"
    pi.payment_method = None
    pi.last_payment_error = error
    ctx.emit("payment_intent.payment_failed", pi)


# -- capture and cancel -----------------------------------------------------------------
def capture_payment_intent(ctx: Ctx, pi_id: str, params: Params) -> PaymentIntent:
    """Capture all or part of an authorization
    (https://docs.stripe.com/payments/place-a-hold-on-a-payment-method)."""
    pi = load(ctx, PaymentIntent, pi_id)
    amount = params.integer("amount_to_capture", minimum=1)
    details = _subset(params, "metadata", "statement_descriptor", "statement_descriptor_suffix")
    _read_details(pi, details)
    details.finish()
    params.boolean("final_capture")
    params.finish()
    if pi.status != "requires_capture":
        raise _cannot_capture(ctx, pi)
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
    return pi


def _subset(params: Params, *names: str) -> Params:
    return Params({name: params.raw(name) for name in names if name in params})


def cancel_payment_intent(ctx: Ctx, pi_id: str, params: Params) -> PaymentIntent:
    """Cancel; an authorization is released, which Stripe reports as a refunded charge."""
    pi = load(ctx, PaymentIntent, pi_id)
    reason = params.enum("cancellation_reason", CANCELLATION_REASONS)
    params.finish()
    if pi.status not in CANCELABLE:
        raise _cannot_cancel(ctx, pi)
    if pi.status == "requires_capture" and pi.latest_charge:
        _release_authorization(ctx, pi.latest_charge)
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
