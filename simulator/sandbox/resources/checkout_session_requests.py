"""Creating a Checkout Session, as a typed request read at the edge.

``POST /v1/checkout/sessions`` is read into a :class:`CheckoutSessionCreate`
(``from_params``, with the request's API version, which names ``ui_mode`` and decides
whether ``payment_method_types`` is taken): its line items (``CheckoutLineItem``), its
discount (``CheckoutDiscount``) and its option hashes (``checkout_options.py``) are typed
parts. Everything that can be checked without the store or the clock is checked here;
``checkout_session.create_checkout_session`` checks the rest (prices, coupons and the
customer that must exist, ``expires_at`` against the sandbox clock).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from simulator.sandbox.errors import InvalidRequestError, parameter_missing
from simulator.sandbox.params import Params
from simulator.sandbox.resources.checkout_discounts import CheckoutDiscount, read_discounts
from simulator.sandbox.resources.checkout_line_items import CheckoutLineItem, read_line_items
from simulator.sandbox.resources.checkout_options import (
    CardOptions,
    PaymentIntentData,
    Recovery,
    SetupIntentData,
)
from simulator.sandbox.versions import (
    accepts_payment_method_types,
    checkout_ui_mode,
    ui_mode_from_request,
)

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


@dataclass(frozen=True)
class CheckoutSessionCreate:
    """A new session in ``payment`` mode (line items, a discount, ``payment_intent_data``)
    or ``setup`` mode (``setup_intent_data``). ``ui_mode`` is in the stored (endive) names;
    a field left ``None`` takes Stripe's default."""

    mode: str = "payment"
    line_items: tuple[CheckoutLineItem, ...] = ()
    discounts: tuple[CheckoutDiscount, ...] = ()
    currency: str | None = None
    expires_at: int | None = None  # 24 hours after creation by default
    ui_mode: str = "hosted_page"
    customer: str | None = None
    customer_email: str | None = None
    customer_creation: str | None = None  # ``if_required`` by default, without a customer
    success_url: str | None = None
    cancel_url: str | None = None
    return_url: str | None = None
    redirect_on_completion: str | None = None  # ``always`` by default, off the hosted page
    payment_method_types: list[str] | None = None  # before endive only
    allowed_payment_method_types: list[str] | None = None
    excluded_payment_method_types: list[str] | None = None
    client_reference_id: str | None = None
    metadata: dict[str, str] | None = None
    locale: str | None = None
    submit_type: str | None = None
    billing_address_collection: str | None = None
    allow_promotion_codes: bool | None = None
    phone_number_collection: bool | None = None  # phone_number_collection[enabled]
    shipping_countries: list[str] | None = None  # [allowed_countries] to collect an address
    automatic_tax: bool | None = None  # automatic_tax[enabled]
    after_expiration: Recovery | None = None
    card_options: CardOptions | None = None  # payment_method_options[card]
    payment_intent_data: PaymentIntentData | None = None
    setup_intent_data: SetupIntentData | None = None

    def offered_payment_method_types(self) -> list[str]:
        return offered_types(self.payment_method_types, self.allowed_payment_method_types,
                             self.excluded_payment_method_types)

    @classmethod
    def from_params(cls, params: Params, api_version: str) -> CheckoutSessionCreate:
        mode = _read_mode(params)
        expires_at = params.integer("expires_at")
        currency = params.currency("currency")
        ui_mode = _read_ui_mode(params, api_version)
        explicit_types = params.peek("payment_method_types") is not None
        line_items: tuple[CheckoutLineItem, ...] = ()
        discounts: tuple[CheckoutDiscount, ...] = ()
        payment_data = setup_data = None
        if mode == "setup":
            setup_data = _read_setup(params)
        else:
            line_items, discounts, payment_data = _read_purchase(params)
        customer, customer_email, creation = _read_customer(params)
        success_url = _read_url(params, "success_url")
        cancel_url = _read_url(params, "cancel_url")
        return_url = _read_url(params, "return_url")
        redirect = None if ui_mode == "hosted_page" else \
            params.enum("redirect_on_completion", ("always", "if_required", "never"))
        types = params.strings("payment_method_types") \
            if accepts_payment_method_types(api_version) else None
        allowed = params.strings("allowed_payment_method_types")
        excluded = params.strings("excluded_payment_method_types")
        if mode == "setup":
            _check_setup_methods(currency, offered_types(types, allowed, excluded),
                                 explicit_types)
        return cls(
            mode=mode, line_items=line_items, discounts=discounts, currency=currency,
            expires_at=expires_at, ui_mode=ui_mode, customer=customer,
            customer_email=customer_email, customer_creation=creation,
            success_url=success_url, cancel_url=cancel_url, return_url=return_url,
            redirect_on_completion=redirect, payment_method_types=types,
            allowed_payment_method_types=allowed, excluded_payment_method_types=excluded,
            client_reference_id=params.string("client_reference_id", max_length=200),
            metadata=params.metadata(),
            locale=params.enum("locale", LOCALES),
            submit_type=params.enum("submit_type", SUBMIT_TYPES),
            billing_address_collection=params.enum("billing_address_collection",
                                                   ("auto", "required")),
            allow_promotion_codes=params.boolean("allow_promotion_codes"),
            phone_number_collection=_read_enabled(params, "phone_number_collection"),
            shipping_countries=_read_shipping_countries(params),
            automatic_tax=_read_enabled(params, "automatic_tax"),
            after_expiration=_read_after_expiration(params),
            card_options=_read_card_options(params),
            payment_intent_data=payment_data, setup_intent_data=setup_data,
        )


def offered_types(requested: Sequence[str] | None, allowed: Sequence[str] | None,
                  excluded: Sequence[str] | None) -> list[str]:
    """``payment_method_types`` was removed in endive (dynamic payment methods only);
    ``allowed_``/``excluded_payment_method_types`` filter the dynamic set."""
    types = allowed or requested or ["card"]
    left_out = set(excluded or ())
    return [name for name in types if name not in left_out]


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


def _read_purchase(params: Params) -> tuple[tuple[CheckoutLineItem, ...],
                                             tuple[CheckoutDiscount, ...],
                                             PaymentIntentData | None]:
    """``payment`` mode: the line items, the discount and ``payment_intent_data``."""
    if "setup_intent_data" in params:
        raise _not_in_mode("setup_intent_data", "payment")
    if "allow_promotion_codes" in params and "discounts" in params:
        raise InvalidRequestError(
            "You may only specify one of these parameters: allow_promotion_codes, discounts.",
            param="discounts")
    line_items = read_line_items(params)
    discounts = read_discounts(params)
    data = params.hash("payment_intent_data")
    return line_items, discounts, PaymentIntentData.from_params(data) if data is not None \
        else None


def _read_setup(params: Params) -> SetupIntentData | None:
    """``setup`` mode saves a card and charges nothing: no items, no amounts."""
    for name in PAYMENT_ONLY:
        if name in params:
            raise _not_in_mode(name, "setup")
    data = params.hash("setup_intent_data")
    return SetupIntentData.from_params(data) if data is not None else None


def _check_setup_methods(currency: str | None, types: list[str], explicit_types: bool) -> None:
    """Dynamic payment methods need the ``currency`` to choose from; the sandbox's
    SetupIntents save cards only."""
    if currency is None and not explicit_types:
        raise parameter_missing("currency")
    others = [name for name in types if name != "card"]
    if others:
        raise InvalidRequestError(
            f"The sandbox saves only cards in `setup` mode; `{others[0]}` is not supported.",
            param="payment_method_types")


def _read_ui_mode(params: Params, api_version: str) -> str:
    """``ui_mode`` in the request's API version's names, stored in endive's."""
    names = list(dict.fromkeys(checkout_ui_mode(mode, api_version) for mode in UI_MODES))
    requested = params.enum("ui_mode", names)
    return ui_mode_from_request(requested, api_version) if requested else "hosted_page"


def _read_customer(params: Params) -> tuple[str | None, str | None, str | None]:
    """``customer`` (an existing Customer) or ``customer_email`` (prefilled), not both;
    ``customer_creation`` only without a customer."""
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
        return customer_id, None, None
    return None, params.string("customer_email", max_length=800), creation


def _read_url(params: Params, key: str) -> str | None:
    """``{CHECKOUT_SESSION_ID}`` in ``success_url`` stays as given: the page replaces it."""
    url = params.string(key)
    if url is not None and not url.startswith(("http://", "https://")):
        raise InvalidRequestError("Not a valid URL", param=key)
    return url


def _read_enabled(params: Params, key: str) -> bool | None:
    """``phone_number_collection[enabled]``, ``automatic_tax[enabled]``."""
    option = params.hash(key)
    return bool(option.boolean("enabled", required=True)) if option is not None else None


def _read_shipping_countries(params: Params) -> list[str] | None:
    shipping = params.hash("shipping_address_collection")
    if shipping is None:
        return None
    return shipping.strings("allowed_countries", required=True) or []


def _read_after_expiration(params: Params) -> Recovery | None:
    after = params.hash("after_expiration")
    return Recovery.from_params(after) if after is not None else None


def _read_card_options(params: Params) -> CardOptions | None:
    options = params.hash("payment_method_options")
    card = options.hash("card") if options is not None else None
    return CardOptions.from_params(card) if card is not None else None
