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
from simulator.sandbox.errors import InvalidRequestError
from simulator.sandbox.params import apply_metadata
from simulator.sandbox.resources import coupon as coupons
from simulator.sandbox.resources.balance_transaction import format_amount
from simulator.sandbox.resources.base import (
    Ctx,
    StripeObject,
    list_object,
    load,
    save,
)
from simulator.sandbox.resources.checkout_discounts import apply_discounts
from simulator.sandbox.resources.checkout_line_items import (
    LineItem,
    build_line_items,
    line_items_url,
)
from simulator.sandbox.resources.checkout_session_requests import CheckoutSessionCreate
from simulator.sandbox.resources.common import empty_address
from simulator.sandbox.resources.customer import Customer
from simulator.sandbox.resources.payment_intent import MINIMUM_AMOUNTS
from simulator.sandbox.versions import checkout_ui_mode

Status = Literal["open", "complete", "expired"]
PaymentStatus = Literal["paid", "unpaid", "no_payment_required"]
STATUSES = ("open", "complete", "expired")
EXPIRE_JOB = "checkout_session.expire"
MIN_LIFETIME = 30 * 60
MAX_LIFETIME = 24 * 60 * 60
DEFAULT_PAGE = 10


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
def create_checkout_session(ctx: Ctx, request: CheckoutSessionCreate) -> CheckoutSession:
    """Make the line items (inline prices included) and apply the discount, save the
    session and schedule its expiry. Stripe emits no event on creation. A ``setup``
    session's SetupIntent is made by ``flows/checkout_sessions.py``."""
    session = CheckoutSession(
        id=ctx.ids.new("cs_test", 58),
        created=ctx.now,
        expires_at=_expires_at(request.expires_at, ctx.now),
        currency=request.currency,
        amount_subtotal=None,
        line_items=[],
        mode=request.mode,
        ui_mode=request.ui_mode,
    )
    if request.mode == "setup":
        session.payment_status = "no_payment_required"
        data = request.setup_intent_data
        session.setup_intent_data = data.stored() if data is not None else {}
    else:
        _add_purchase(ctx, request, session)
    _add_customer(ctx, request, session)
    _add_redirects(ctx, request, session)
    session.payment_method_types = request.offered_payment_method_types()
    session.allowed_payment_method_types = request.allowed_payment_method_types
    session.excluded_payment_method_types = request.excluded_payment_method_types
    _add_presentation(request, session)
    card = request.card_options
    session.payment_method_options = card.stored() if card is not None else {}
    save(ctx, session)
    jobs.schedule(ctx, EXPIRE_JOB, session.id, session.expires_at)
    return session


def _add_purchase(ctx: Ctx, request: CheckoutSessionCreate, session: CheckoutSession) -> None:
    """``payment`` mode: the line items, the discount and the amounts."""
    items, currency = build_line_items(ctx, request.line_items, session.currency)
    session.discounts = apply_discounts(ctx, request.discounts, items, currency)
    session.currency = currency
    session.amount_subtotal = sum(item.amount_subtotal for item in items)
    session.amount_discount = sum(item.amount_discount for item in items)
    session.line_items = [item.state() for item in items]
    _check_minimum_total(session)
    data = request.payment_intent_data
    session.payment_intent_data = data.stored() if data is not None else {}


def _check_minimum_total(session: CheckoutSession) -> None:
    """A total due must reach the currency's minimum charge, unless nothing is due."""
    total, currency = session.amount_total or 0, session.currency or "usd"
    minimum = MINIMUM_AMOUNTS.get(currency, 50)
    if 0 < total < minimum:
        raise InvalidRequestError(
            "The Checkout Session's total amount due must add up to at least"
            f" {format_amount(minimum, currency)} {currency}")


def _expires_at(requested: int | None, created: int) -> int:
    """``expires_at`` may be 30 minutes to 24 hours after creation; 24 hours by default."""
    if requested is None:
        return created + MAX_LIFETIME
    if requested < created + MIN_LIFETIME:
        raise InvalidRequestError(
            "The `expires_at` timestamp must be at least 30 minutes from Checkout Session"
            " creation.",
            param="expires_at",
        )
    if requested > created + MAX_LIFETIME:
        raise InvalidRequestError(
            "The `expires_at` timestamp must be less than 24 hours from Checkout Session"
            " creation.",
            param="expires_at",
        )
    return requested


# -- customer, redirects, presentation --------------------------------------------------
def _add_customer(ctx: Ctx, request: CheckoutSessionCreate, session: CheckoutSession) -> None:
    """An existing Customer, or a prefilled email; without a customer, Checkout creates
    one only ``if_required`` by default."""
    if request.customer is not None:
        session.customer = load(ctx, Customer, request.customer, param="customer").id
        return
    session.customer_email = request.customer_email
    session.customer_creation = request.customer_creation or "if_required"


def _add_redirects(ctx: Ctx, request: CheckoutSessionCreate, session: CheckoutSession) -> None:
    """The hosted page has a ``url``; embedded and custom UIs get a ``client_secret``."""
    session.success_url = request.success_url
    session.cancel_url = request.cancel_url
    session.return_url = request.return_url
    if session.ui_mode == "hosted_page":
        session.url = f"{ctx.base_url}/c/pay/{session.id}"
        return
    session.client_secret = f"{session.id}_secret_{ctx.ids.token(24)}"
    session.redirect_on_completion = request.redirect_on_completion or "always"


def _add_presentation(request: CheckoutSessionCreate, session: CheckoutSession) -> None:
    session.client_reference_id = request.client_reference_id
    session.metadata = apply_metadata({}, request.metadata)
    session.locale = request.locale
    session.submit_type = request.submit_type
    session.billing_address_collection = request.billing_address_collection
    session.allow_promotion_codes = request.allow_promotion_codes
    if request.phone_number_collection is not None:
        session.phone_number_collection = request.phone_number_collection
    if request.shipping_countries is not None:
        session.shipping_address_collection = {
            "allowed_countries": list(request.shipping_countries)}
    if request.automatic_tax is not None:
        session.automatic_tax = request.automatic_tax
    recovery = request.after_expiration
    session.after_expiration = recovery.stored() if recovery is not None else None


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
