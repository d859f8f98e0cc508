"""Checkout Sessions (https://docs.stripe.com/api/checkout/sessions), ``payment`` and
``setup`` modes.

A session is ``open`` from creation until it is paid (``complete``) or it expires
(``expired``): at ``expires_at`` (30 minutes to 24 hours after creation, 24 hours by
default) or when expired through the API. Current Stripe creates the PaymentIntent only
when the customer confirms, so ``payment_intent`` is ``null`` while the session is open;
the hosted page calls ``attach_payment_intent`` and ``mark_session_complete``. A session
in ``setup`` mode has no amounts and saves a card through the SetupIntent made with it
(``flows/checkout_sessions.py``). A coupon in ``discounts`` lowers the amounts
(``checkout_discounts.py``) and is redeemed when the session completes.

``subscription`` mode is refused with an explicit message: the sandbox simulates no
Subscriptions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from simulator.sandbox import jobs
from simulator.sandbox.errors import InvalidRequestError, parameter_missing
from simulator.sandbox.params import Params, apply_metadata
from simulator.sandbox.resources import checkout_options as options
from simulator.sandbox.resources import coupon as coupons
from simulator.sandbox.resources.balance_transaction import format_amount
from simulator.sandbox.resources.base import (
    Ctx,
    StripeObject,
    list_object,
    load,
    save,
)
from simulator.sandbox.resources.checkout_discounts import read_discounts
from simulator.sandbox.resources.checkout_line_items import (
    LineItem,
    line_items_url,
    read_line_items,
)
from simulator.sandbox.resources.common import empty_address
from simulator.sandbox.resources.customer import Customer
from simulator.sandbox.resources.payment_intent import MINIMUM_AMOUNTS
from simulator.sandbox.versions import (
    accepts_payment_method_types,
    checkout_ui_mode,
    ui_mode_from_request,
)

Status = Literal["open", "complete", "expired"]
PaymentStatus = Literal["paid", "unpaid", "no_payment_required"]
STATUSES = ("open", "complete", "expired")
EXPIRE_JOB = "checkout_session.expire"
MIN_LIFETIME = 30 * 60
MAX_LIFETIME = 24 * 60 * 60
DEFAULT_PAGE = 10
# The ``ui_mode`` values as stored (endive's names); versions.py renames them for older
# API versions.
UI_MODES = ("elements", "embedded_page", "form", "hosted_page")
MODES = ("payment", "setup", "subscription")
# What ``setup`` mode refuses (no amount is charged), in Stripe's words for each.
PAYMENT_ONLY = ("line_items", "discounts", "allow_promotion_codes", "payment_intent_data",
                "submit_type")
SUBMIT_TYPES = ("auto", "book", "donate", "pay")
LOCALES = (
    "auto", "bg", "cs", "da", "de", "el", "en", "en-GB", "es", "es-419", "et", "fi", "fil",
    "fr", "fr-CA", "hi-IN", "hr", "hu", "id", "it", "ja", "ko", "lt", "lv", "ms", "mt", "nb",
    "nl", "pl", "pt", "pt-BR", "ro", "ru", "sk", "sl", "sv", "th", "tr", "vi", "zh", "zh-HK",
    "zh-TW",
)


@dataclass(kw_only=True)
class CheckoutSession(StripeObject):
    OBJECT = "checkout.session"
    PREFIX = "cs_test"
    NOUN = "checkout.session"
    FILTERS = ("customer", "payment_intent", "email", "status")
    EXPANDABLE = frozenset({"customer", "payment_intent", "setup_intent"})
    INCLUDABLE = frozenset({"line_items"})

    expires_at: int
    currency: str | None
    amount_subtotal: int | None
    line_items: list[dict[str, Any]]
    mode: str = "payment"
    amount_discount: int = 0
    discounts: list[dict[str, Any]] = field(default_factory=list)
    status: Status = "open"
    payment_status: PaymentStatus = "unpaid"
    ui_mode: str = "hosted_page"
    url: str | None = None
    client_secret: str | None = None
    customer: str | None = None
    customer_email: str | None = None
    customer_creation: str | None = None
    customer_details: dict[str, Any] | None = None
    client_reference_id: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    success_url: str | None = None
    cancel_url: str | None = None
    return_url: str | None = None
    redirect_on_completion: str | None = None
    locale: str | None = None
    submit_type: str | None = None
    billing_address_collection: str | None = None
    phone_number_collection: bool = False
    shipping_address_collection: dict[str, Any] | None = None
    allow_promotion_codes: bool | None = None
    after_expiration: dict[str, Any] | None = None
    automatic_tax: bool = False
    payment_method_types: list[str] = field(default_factory=lambda: ["card"])
    allowed_payment_method_types: list[str] | None = None
    excluded_payment_method_types: list[str] | None = None
    payment_method_options: dict[str, Any] = field(default_factory=dict)
    # What the PaymentIntent created at confirmation is made with (not rendered).
    payment_intent_data: dict[str, Any] = field(default_factory=dict)
    payment_intent: str | None = None
    # What the SetupIntent made with a ``setup`` session is made with (not rendered).
    setup_intent_data: dict[str, Any] = field(default_factory=dict)
    setup_intent: str | None = None

    @property
    def amount_total(self) -> int | None:
        if self.amount_subtotal is None:
            return None
        return self.amount_subtotal - self.amount_discount

    def success_redirect(self) -> str | None:
        """``success_url`` with ``{CHECKOUT_SESSION_ID}`` replaced, as Checkout does."""
        url = self.success_url
        return url.replace("{CHECKOUT_SESSION_ID}", self.id) if url else None

    def items(self) -> list[LineItem]:
        return [LineItem.from_state(state) for state in self.line_items]

    def index(self) -> dict[str, str | None]:
        return {
            "customer": self.customer,
            "payment_intent": self.payment_intent,
            "email": (self.customer_details or {}).get("email") or None,
            "status": self.status,
        }

    def include(self, ctx: Ctx, name: str) -> Any:
        """``expand[]=line_items``: the first page of the line items list."""
        items = self.items()
        data = [item.serialize(ctx) for item in items[:DEFAULT_PAGE]]
        return list_object(line_items_url(self.id), data, len(items) > DEFAULT_PAGE)

    def serialize(self, ctx: Ctx) -> dict[str, Any]:
        return {
            "id": self.id,
            "object": "checkout.session",
            "adaptive_pricing": {"enabled": False},
            "after_expiration": self.after_expiration,
            "allow_promotion_codes": self.allow_promotion_codes,
            "allowed_payment_method_types": self.allowed_payment_method_types,
            "amount_subtotal": self.amount_subtotal,
            "amount_total": self.amount_total,
            "automatic_tax": {
                "enabled": self.automatic_tax,
                "liability": {"type": "self"} if self.automatic_tax else None,
                "provider": "stripe" if self.automatic_tax else None,
                "status": "complete" if self.automatic_tax else None,
            },
            "billing_address_collection": self.billing_address_collection,
            "branding_settings": None,
            "cancel_url": self.cancel_url,
            "client_reference_id": self.client_reference_id,
            "client_secret": self.client_secret if self.status == "open" else None,
            "collected_information": None,
            "consent": None,
            "consent_collection": None,
            "created": self.created,
            "currency": self.currency,
            "currency_conversion": None,
            "custom_fields": [],
            "custom_text": {
                "after_submit": None,
                "shipping_address": None,
                "submit": None,
                "terms_of_service_acceptance": None,
            },
            "customer": self.customer,
            "customer_account": None,
            "customer_creation": self.customer_creation,
            "customer_details": self.customer_details,
            "customer_email": self.customer_email,
            "discounts": [dict(discount) for discount in self.discounts],
            "excluded_payment_method_types": self.excluded_payment_method_types,
            "expires_at": self.expires_at,
            "integration_identifier": None,
            "invoice": None,
            "invoice_creation": _invoice_creation() if self.mode == "payment" else None,
            "livemode": False,
            "locale": self.locale,
            "metadata": dict(self.metadata),
            "mode": self.mode,
            "name_collection": None,
            "optional_items": None,
            "origin_context": None,
            "payment_intent": self.payment_intent,
            "payment_link": None,
            "payment_method_collection": "always",
            "payment_method_configuration_details": None,
            "payment_method_options": self.payment_method_options,
            "payment_method_types": list(self.payment_method_types),
            "payment_status": self.payment_status,
            "permissions": None,
            "phone_number_collection": {"enabled": self.phone_number_collection},
            "presentment_details": None,
            "recovered_from": None,
            "redirect_on_completion": self.redirect_on_completion,
            "return_url": self.return_url,
            "saved_payment_method_options": None,
            "setup_intent": self.setup_intent,
            "shipping_address_collection": self.shipping_address_collection,
            "shipping_cost": None,
            "shipping_options": [],
            "status": self.status,
            "submit_type": self.submit_type,
            "subscription": None,
            "success_url": self.success_url,
            "tax_id_collection": None,
            "total_details": None if self.mode == "setup" else {
                "amount_discount": self.amount_discount, "amount_shipping": 0, "amount_tax": 0},
            "ui_mode": checkout_ui_mode(self.ui_mode, ctx.api_version),
            "url": self.url if self.status == "open" else None,
            "wallet_options": None,
        }


def _invoice_creation() -> dict[str, Any]:
    return {
        "enabled": False,
        "invoice_data": {
            "account_tax_ids": None,
            "custom_fields": None,
            "description": None,
            "footer": None,
            "issuer": None,
            "metadata": {},
            "rendering_options": None,
        },
    }


# -- create -----------------------------------------------------------------------------
def create_checkout_session(ctx: Ctx, params: Params) -> CheckoutSession:
    """Validate everything, make the line items (inline prices included) and apply the
    discount, save the session and schedule its expiry. Stripe emits no event on
    creation. A ``setup`` session's SetupIntent is made by ``flows/checkout_sessions.py``."""
    mode = _read_mode(params)
    session = CheckoutSession(
        id=ctx.ids.new("cs_test", 58),
        created=ctx.now,
        expires_at=_read_expires_at(params, ctx.now),
        currency=params.currency("currency"),
        amount_subtotal=None,
        line_items=[],
        mode=mode,
        ui_mode=_read_ui_mode(ctx, params),
    )
    explicit_types = params.peek("payment_method_types") is not None
    if mode == "setup":
        _read_setup(params, session)
    else:
        _read_purchase(ctx, params, session)
    _read_customer(ctx, params, session)
    _read_redirects(ctx, params, session)
    _read_payment_method_types(ctx, params, session)
    if mode == "setup":
        _check_setup_methods(session, explicit_types)
    _read_presentation(params, session)
    session.payment_method_options = options.read_payment_method_options(params)
    params.finish()
    save(ctx, session)
    jobs.schedule(ctx, EXPIRE_JOB, session.id, session.expires_at)
    return session


def _read_mode(params: Params) -> str:
    mode = params.enum("mode", MODES, required=True)
    assert mode is not None
    if mode == "subscription":
        raise InvalidRequestError(
            "The sandbox simulates Checkout Sessions in `payment` and `setup` modes only;"
            " `subscription` mode is not supported.",
            param="mode",
        )
    return mode


def _not_in_mode(name: str, mode: str) -> InvalidRequestError:
    return InvalidRequestError(f"You can not pass `{name}` in `{mode}` mode.", param=name)


def _read_purchase(ctx: Ctx, params: Params, session: CheckoutSession) -> None:
    """``payment`` mode: the line items, the discount and the amounts."""
    if "setup_intent_data" in params:
        raise _not_in_mode("setup_intent_data", "payment")
    if "allow_promotion_codes" in params and "discounts" in params:
        raise InvalidRequestError(
            "You may only specify one of these parameters: allow_promotion_codes, discounts.",
            param="discounts")
    items, currency = read_line_items(ctx, params, session.currency)
    session.discounts = read_discounts(ctx, params, items, currency)
    session.currency = currency
    session.amount_subtotal = sum(item.amount_subtotal for item in items)
    session.amount_discount = sum(item.amount_discount for item in items)
    session.line_items = [item.state() for item in items]
    _check_minimum_total(session)
    session.payment_intent_data = options.read_payment_intent_data(params)


def _check_minimum_total(session: CheckoutSession) -> None:
    """A total due must reach the currency's minimum charge, unless nothing is due."""
    total, currency = session.amount_total or 0, session.currency or "usd"
    minimum = MINIMUM_AMOUNTS.get(currency, 50)
    if 0 < total < minimum:
        raise InvalidRequestError(
            "The Checkout Session's total amount due must add up to at least"
            f" {format_amount(minimum, currency)} {currency}")


def _read_setup(params: Params, session: CheckoutSession) -> None:
    """``setup`` mode saves a card and charges nothing: no items, no amounts."""
    for name in PAYMENT_ONLY:
        if name in params:
            raise _not_in_mode(name, "setup")
    session.payment_status = "no_payment_required"
    session.setup_intent_data = options.read_setup_intent_data(params)


def _check_setup_methods(session: CheckoutSession, explicit_types: bool) -> None:
    """Dynamic payment methods need the ``currency`` to choose from; the sandbox's
    SetupIntents save cards only."""
    if session.currency is None and not explicit_types:
        raise parameter_missing("currency")
    others = [name for name in session.payment_method_types if name != "card"]
    if others:
        raise InvalidRequestError(
            f"The sandbox saves only cards in `setup` mode; `{others[0]}` is not supported.",
            param="payment_method_types")


def _read_ui_mode(ctx: Ctx, params: Params) -> str:
    """``ui_mode`` in the request's API version's names, stored in endive's."""
    names = list(dict.fromkeys(checkout_ui_mode(mode, ctx.api_version) for mode in UI_MODES))
    requested = params.enum("ui_mode", names)
    return ui_mode_from_request(requested, ctx.api_version) if requested else "hosted_page"


def _read_expires_at(params: Params, created: int) -> int:
    """``expires_at`` may be 30 minutes to 24 hours after creation; 24 hours by default."""
    expires_at = params.integer("expires_at")
    if expires_at is None:
        return created + MAX_LIFETIME
    if expires_at < created + MIN_LIFETIME:
        raise InvalidRequestError(
            "The `expires_at` timestamp must be at least 30 minutes from Checkout Session"
            " creation.",
            param="expires_at",
        )
    if expires_at > created + MAX_LIFETIME:
        raise InvalidRequestError(
            "The `expires_at` timestamp must be less than 24 hours from Checkout Session"
            " creation.",
            param="expires_at",
        )
    return expires_at


# -- customer, redirects, payment methods, presentation -----------------------------------
def _read_customer(ctx: Ctx, params: Params, session: CheckoutSession) -> None:
    """``customer`` (an existing Customer) or ``customer_email`` (prefilled), not both;
    without a customer, Checkout creates one only ``if_required`` by default."""
    if "customer" in params and "customer_email" in params:
        raise InvalidRequestError(
            "You may only specify one of these parameters: customer, customer_email.",
            param="customer_email",
        )
    customer_id = params.string("customer")
    creation = params.enum("customer_creation", ("always", "if_required"))
    if customer_id is not None:
        if creation is not None:
            raise InvalidRequestError(
                "You may only specify one of these parameters: customer, customer_creation.",
                param="customer_creation",
            )
        session.customer = load(ctx, Customer, customer_id, param="customer").id
        return
    session.customer_email = params.string("customer_email", max_length=800)
    session.customer_creation = creation or "if_required"


def _read_redirects(ctx: Ctx, params: Params, session: CheckoutSession) -> None:
    """The hosted page has a ``url``; embedded and custom UIs get a ``client_secret``.
    ``{CHECKOUT_SESSION_ID}`` in ``success_url`` stays as given: the page replaces it."""
    session.success_url = _read_url(params, "success_url")
    session.cancel_url = _read_url(params, "cancel_url")
    session.return_url = _read_url(params, "return_url")
    if session.ui_mode == "hosted_page":
        session.url = f"{ctx.base_url}/c/pay/{session.id}"
        return
    session.client_secret = f"{session.id}_secret_{ctx.ids.token(24)}"
    session.redirect_on_completion = (
        params.enum("redirect_on_completion", ("always", "if_required", "never")) or "always"
    )


def _read_url(params: Params, key: str) -> str | None:
    url = params.string(key)
    if url is not None and not url.startswith(("http://", "https://")):
        raise InvalidRequestError("Not a valid URL", param=key)
    return url


def _read_payment_method_types(ctx: Ctx, params: Params, session: CheckoutSession) -> None:
    """``payment_method_types`` was removed in endive (dynamic payment methods only);
    ``allowed_``/``excluded_payment_method_types`` filter the dynamic set."""
    if accepts_payment_method_types(ctx.api_version):
        requested = params.strings("payment_method_types")
        if requested:
            session.payment_method_types = requested
    session.allowed_payment_method_types = params.strings("allowed_payment_method_types")
    session.excluded_payment_method_types = params.strings("excluded_payment_method_types")
    types = session.allowed_payment_method_types or session.payment_method_types
    excluded = set(session.excluded_payment_method_types or ())
    session.payment_method_types = [name for name in types if name not in excluded]


def _read_presentation(params: Params, session: CheckoutSession) -> None:
    session.client_reference_id = params.string("client_reference_id", max_length=200)
    session.metadata = apply_metadata({}, params.metadata())
    session.locale = params.enum("locale", LOCALES)
    session.submit_type = params.enum("submit_type", SUBMIT_TYPES)
    session.billing_address_collection = params.enum(
        "billing_address_collection", ("auto", "required")
    )
    session.allow_promotion_codes = params.boolean("allow_promotion_codes")
    if (phone := params.hash("phone_number_collection")) is not None:
        session.phone_number_collection = bool(phone.boolean("enabled", required=True))
    if (shipping := params.hash("shipping_address_collection")) is not None:
        countries = shipping.strings("allowed_countries", required=True) or []
        session.shipping_address_collection = {"allowed_countries": countries}
    if (tax := params.hash("automatic_tax")) is not None:
        session.automatic_tax = bool(tax.boolean("enabled", required=True))
    session.after_expiration = options.read_after_expiration(params)


# -- reads ------------------------------------------------------------------------------
def retrieve_checkout_session(ctx: Ctx, session_id: str) -> CheckoutSession:
    return load(ctx, CheckoutSession, session_id)


# -- for the hosted checkout page --------------------------------------------------------
def open_session_for_payment(ctx: Ctx, session_id: str) -> CheckoutSession:
    """The session a customer is about to pay: it must be open and not past
    ``expires_at`` (the expiry job may not have run yet)."""
    session = load(ctx, CheckoutSession, session_id)
    status = "expired" if session.status == "open" and ctx.now >= session.expires_at \
        else session.status
    if status != "open":
        raise InvalidRequestError(
            'Only Checkout Sessions with a status in ["open"] can be paid. This Checkout'
            f" Session has a status of `{status}`.",
        )
    return session


def attach_setup_intent(ctx: Ctx, session: CheckoutSession, setup_intent_id: str) -> None:
    session.setup_intent = setup_intent_id
    save(ctx, session)


def attach_customer(ctx: Ctx, session: CheckoutSession, customer_id: str) -> None:
    """The Customer Checkout created while completing (``customer_creation=always``)."""
    session.customer = customer_id
    save(ctx, session)


def attach_payment_intent(ctx: Ctx, session: CheckoutSession, payment_intent_id: str) -> None:
    """The PaymentIntent made when the customer confirmed (it may still need action)."""
    session.payment_intent = payment_intent_id
    save(ctx, session)


def mark_session_complete(
    ctx: Ctx,
    session: CheckoutSession,
    payment_intent_id: str | None,
    customer_details: dict[str, Any],
    *,
    payment_pending: bool = False,
) -> CheckoutSession:
    """The customer paid (or saved a card): ``complete``, with ``paid`` (or ``unpaid``
    while a manual capture or a bank debit is pending, ``no_payment_required`` for a free
    order or a setup), the coupon redeemed, and ``checkout.session.completed``."""
    if session.status != "open":
        raise InvalidRequestError(
            'Only Checkout Sessions with a status in ["open"] can be completed. This'
            f" Checkout Session has a status of `{session.status}`.",
        )
    session.status = "complete"
    session.payment_status = "unpaid" if payment_pending else \
        _payment_status_on_completion(session)
    session.payment_intent = payment_intent_id or session.payment_intent
    session.customer_details = _customer_details(customer_details, session.mode)
    for discount in session.discounts:
        coupons.redeem(ctx, discount["coupon"])
    jobs.cancel(ctx, EXPIRE_JOB, session.id)
    save(ctx, session)
    ctx.emit("checkout.session.completed", session)
    return session


def _payment_status_on_completion(session: CheckoutSession) -> PaymentStatus:
    if session.mode == "setup" or session.amount_total == 0:
        return "no_payment_required"
    if session.payment_intent_data.get("capture_method") == "manual":
        return "unpaid"
    return "paid"


def _customer_details(details: dict[str, Any], mode: str) -> dict[str, Any]:
    """``customer_details`` with every field Stripe renders, in Stripe's order (a setup
    session collects no address)."""
    return {
        "address": None if mode == "setup" else details.get("address") or empty_address(),
        "business_name": details.get("business_name"),
        "email": details.get("email"),
        "individual_name": details.get("individual_name"),
        "name": details.get("name"),
        "phone": details.get("phone"),
        "tax_exempt": details.get("tax_exempt", "none"),
        "tax_ids": details.get("tax_ids", []),
    }
