"""Creating, updating, confirming and capturing a PaymentIntent, as typed requests read at
the edge.

The API reads the form into :class:`PaymentIntentCreate`, :class:`PaymentIntentUpdate`,
:class:`PaymentIntentConfirm` or :class:`PaymentIntentCapture` (``from_params``, which checks
what can be checked without the store, names the offending parameter as Stripe does and
refuses what it did not read, before the operation writes anything); hosted Checkout builds
a ``PaymentIntentCreate`` for the session's payment. The operations in
:mod:`.payment_intent` check what needs the store or the request's API version: that the
customer exists, that the PaymentMethod may pay, that the status allows the change.
A field a request does not mention is ``UNSET`` where setting it to nothing is a change.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from simulator.sandbox import virtual_accounts
from simulator.sandbox.errors import InvalidRequestError, parameter_missing, resource_missing
from simulator.sandbox.params import Params, invalid_enum
from simulator.sandbox.resources import bank_transfer
from simulator.sandbox.resources.common import UNSET, Maybe, read_shipping
from simulator.sandbox.resources.payment_confirmation import Attempt
from simulator.sandbox.resources.payment_method_data import PaymentMethodChoice

CAPTURE_METHODS = ("automatic", "automatic_async", "manual")
CONFIRMATION_METHODS = ("automatic", "manual")
SETUP_FUTURE_USAGE = ("off_session", "on_session")
REQUEST_THREE_D_SECURE = ("automatic", "any", "challenge")
# The fields that only describe a payment, with Stripe's length limits.
TEXT_LIMITS = (("description", 1000), ("receipt_email", 800), ("transfer_group", 5000),
               ("statement_descriptor", 22), ("statement_descriptor_suffix", 22))
DETAIL_FIELDS = (*(name for name, _ in TEXT_LIMITS), "shipping", "metadata")
CONFIRM_ONLY_PARAMS = ("return_url", "off_session", "error_on_requires_action", "mandate_data")
# What an update may change only while the PaymentIntent is not yet confirmed.
LOCKED_FIELDS = ("amount", "currency", "payment_method", "payment_method_data", "capture_method",
                 "setup_future_usage", "payment_method_options", "customer")


class DescribedPayment(Protocol):
    """What :class:`PaymentDetails` sets: a PaymentIntent or a charge."""

    description: str | None
    receipt_email: str | None
    transfer_group: str | None
    statement_descriptor: str | None
    statement_descriptor_suffix: str | None
    shipping: dict[str, Any] | None


def read_amount(params: Params) -> tuple[int, str]:
    """``amount`` and ``currency``, both required."""
    amount = params.required_integer("amount")
    currency = params.currency(required=True)
    assert currency is not None
    return amount, currency


@dataclass(frozen=True)
class PaymentDetails:
    """Fields that only describe a payment: a PaymentIntent's (updatable in any status)
    or those of a charge made with a source."""

    shipping: Maybe[dict[str, Any] | None] = UNSET
    description: Maybe[str | None] = UNSET
    receipt_email: Maybe[str | None] = UNSET
    transfer_group: Maybe[str | None] = UNSET
    statement_descriptor: Maybe[str | None] = UNSET
    statement_descriptor_suffix: Maybe[str | None] = UNSET
    metadata: dict[str, str] | None = None

    @classmethod
    def from_params(cls, params: Params, names: tuple[str, ...] = DETAIL_FIELDS
                    ) -> PaymentDetails:
        """The details among ``names`` (an operation may take only some of them)."""
        text = {name: params.string(name, max_length=limit) for name, limit in TEXT_LIMITS
                if name in names and name in params}
        shipping: Maybe[dict[str, Any] | None] = UNSET
        if "shipping" in names and "shipping" in params:
            shipping = read_shipping(params.hash("shipping"))
        metadata = params.metadata() if "metadata" in names else None
        return cls(**text, shipping=shipping, metadata=metadata)

    def set_on(self, payment: DescribedPayment) -> None:
        """Set the fields given on ``payment``; merging the metadata is the caller's."""
        for name, _ in TEXT_LIMITS:
            if (value := getattr(self, name)) is not UNSET:
                setattr(payment, name, value)
        if self.shipping is not UNSET:
            payment.shipping = self.shipping


@dataclass(frozen=True)
class PaymentOptions:
    """``capture_method``, ``setup_future_usage`` and ``payment_method_options``: the
    ``card`` options given (merged over the current ones) and ``customer_balance``'s
    (replacing them); the other types' options are accepted, not modelled."""

    capture_method: str | None = None
    setup_future_usage: Maybe[str | None] = UNSET
    card: dict[str, str] = field(default_factory=dict)
    customer_balance: dict[str, Any] | None = None

    @classmethod
    def from_params(cls, params: Params) -> PaymentOptions:
        capture = params.enum("capture_method", CAPTURE_METHODS)
        future_usage: Maybe[str | None] = UNSET
        if "setup_future_usage" in params:
            future_usage = params.string("setup_future_usage")
            if future_usage is not None and future_usage not in SETUP_FUTURE_USAGE:
                raise invalid_enum("setup_future_usage", future_usage, list(SETUP_FUTURE_USAGE))
        options = params.hash("payment_method_options")
        if options is None:
            return cls(capture, future_usage)
        for other in options.keys():  # noqa: SIM118 (Params is not a mapping)
            if other not in ("card", bank_transfer.METHOD):
                options.raw(other)  # the other payment method types are not modelled
        card = options.hash("card")
        card_options = _read_card_options(card) if card is not None else {}
        balance = options.hash(bank_transfer.METHOD)
        balance_options = read_balance_options(balance) if balance is not None else None
        return cls(capture, future_usage, card_options, balance_options)


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


def read_balance_options(options: Params) -> dict[str, Any]:
    """``payment_method_options[customer_balance]``: ``funding_type`` and
    ``bank_transfer`` (``type``, ``requested_address_types``, ``eu_bank_transfer[country]``);
    a funding type needs a bank transfer type."""
    read: dict[str, Any] = {}
    funding_type = options.enum("funding_type", bank_transfer.FUNDING_TYPES)
    options.enum("setup_future_usage", ("none",))
    transfer = options.hash("bank_transfer")
    if transfer is not None:
        read["bank_transfer"] = _read_bank_transfer(transfer)
    elif funding_type is not None:
        raise parameter_missing(f"{options.name('bank_transfer')}[type]")
    if funding_type is not None:
        read["funding_type"] = funding_type
    return read


def _read_bank_transfer(transfer: Params) -> dict[str, Any]:
    name = transfer.required_string("type")
    kind = virtual_accounts.transfer_type(name)
    if kind is None:
        raise invalid_enum(transfer.name("type"), name, list(virtual_accounts.TRANSFER_TYPES))
    requested = transfer.strings("requested_address_types") or []
    for address_type in requested:
        if address_type not in virtual_accounts.REQUESTABLE_ADDRESS_TYPES:
            raise invalid_enum(transfer.name("requested_address_types"), address_type,
                               list(virtual_accounts.REQUESTABLE_ADDRESS_TYPES))
    eu = transfer.hash("eu_bank_transfer")
    country = eu.enum("country", virtual_accounts.EU_COUNTRIES, required=True) if eu else None
    if kind == "eu_bank_transfer" and country is None:
        raise parameter_missing(f"{transfer.name('eu_bank_transfer')}[country]")
    read: dict[str, Any] = {
        "requested_address_types": requested or list(virtual_accounts.ADDRESS_TYPES[kind]),
        "type": kind,
    }
    if country is not None:
        read["eu_bank_transfer"] = {"country": country}
    return read


@dataclass(frozen=True)
class AutomaticPaymentMethods:
    enabled: bool
    allow_redirects: str | None = None


@dataclass(frozen=True)
class PaymentMethodTypes:
    """The payment method types a new PaymentIntent takes: listed
    (``payment_method_types``, which the endive versions refuse, or
    ``allowed_payment_method_types``) or automatic, the default."""

    payment_method_types: list[str] | None = None
    allowed_payment_method_types: list[str] | None = None
    excluded_payment_method_types: list[str] | None = None
    automatic_payment_methods: AutomaticPaymentMethods | None = None

    @property
    def listed(self) -> list[str] | None:
        return self.payment_method_types or self.allowed_payment_method_types or None

    @classmethod
    def from_params(cls, params: Params) -> PaymentMethodTypes:
        types = params.strings("payment_method_types")
        allowed = params.strings("allowed_payment_method_types")
        excluded = params.strings("excluded_payment_method_types")
        automatic = params.hash("automatic_payment_methods")
        if automatic is not None and (types or allowed):
            raise InvalidRequestError(
                "You may only specify one of these parameters: automatic_payment_methods,"
                " payment_method_types.", param="automatic_payment_methods")
        chosen = None
        if automatic is not None:
            enabled = automatic.boolean("enabled", required=True)
            assert enabled is not None
            chosen = AutomaticPaymentMethods(
                enabled, automatic.enum("allow_redirects", ("always", "never")))
        return cls(types, allowed, excluded, chosen)


@dataclass(frozen=True)
class ConfirmOptions:
    """How a confirmation is made: the ``return_url`` kept on the PaymentIntent, and the
    :class:`Attempt` (``off_session``, ``error_on_requires_action``)."""

    return_url: str | None = None
    attempt: Attempt = field(default_factory=Attempt)

    @classmethod
    def from_params(cls, params: Params, *, confirming: bool, creating: bool = False
                    ) -> ConfirmOptions:
        if creating and not confirming:
            for name in CONFIRM_ONLY_PARAMS:
                if params.peek(name) is not None:
                    raise InvalidRequestError(
                        f"The parameter `{name}` cannot be passed when creating a PaymentIntent"
                        " unless `confirm` is set to true.", param=name)
        return_url = params.string("return_url")
        if (token := params.string("confirmation_token")) is not None:
            raise resource_missing("confirmation_token", token, "confirmation_token")
        for ignored in ("mandate_data", "mandate", "radar_options"):
            params.raw(ignored)
        params.boolean("use_stripe_sdk")
        off_session = params.string("off_session")
        if off_session not in (None, "true", "false", "one_off", "recurring"):
            raise InvalidRequestError(f"Invalid off_session: {off_session}", param="off_session")
        return cls(return_url, Attempt(
            off_session=off_session not in (None, "false"),
            error_on_requires_action=bool(params.boolean("error_on_requires_action"))))


@dataclass(frozen=True)
class PaymentIntentCreate:
    amount: int
    currency: str
    customer: str | None = None
    confirmation_method: str = "automatic"
    details: PaymentDetails = field(default_factory=PaymentDetails)
    options: PaymentOptions = field(default_factory=PaymentOptions)
    method_types: PaymentMethodTypes = field(default_factory=PaymentMethodTypes)
    payment_method: PaymentMethodChoice = field(default_factory=PaymentMethodChoice)
    confirm: bool = False
    confirmation: ConfirmOptions = field(default_factory=ConfirmOptions)

    @classmethod
    def from_params(cls, params: Params) -> PaymentIntentCreate:
        amount, currency = read_amount(params)
        customer = params.string("customer")
        confirmation_method = params.enum("confirmation_method", CONFIRMATION_METHODS)
        details = PaymentDetails.from_params(params)
        options = PaymentOptions.from_params(params)
        method_types = PaymentMethodTypes.from_params(params)
        payment_method = PaymentMethodChoice.from_params(params)
        confirm = bool(params.boolean("confirm"))
        confirmation = ConfirmOptions.from_params(params, confirming=confirm, creating=True)
        params.finish()
        return cls(amount, currency, customer, confirmation_method or "automatic", details,
                   options, method_types, payment_method, confirm, confirmation)


@dataclass(frozen=True)
class PaymentIntentUpdate:
    """``locked``: the fields named that only an unconfirmed PaymentIntent takes (a name
    given empty counts), in :data:`LOCKED_FIELDS` order."""

    amount: int | None = None
    currency: str | None = None
    customer: str | None = None
    details: PaymentDetails = field(default_factory=PaymentDetails)
    options: PaymentOptions = field(default_factory=PaymentOptions)
    excluded_payment_method_types: list[str] | None = None
    payment_method: PaymentMethodChoice = field(default_factory=PaymentMethodChoice)
    locked: tuple[str, ...] = ()

    @classmethod
    def from_params(cls, params: Params) -> PaymentIntentUpdate:
        locked = tuple(name for name in LOCKED_FIELDS if params.peek(name) is not None)
        amount = params.integer("amount")
        currency = params.currency()
        customer = params.string("customer")
        details = PaymentDetails.from_params(params)
        options = PaymentOptions.from_params(params)
        excluded = params.strings("excluded_payment_method_types")
        payment_method = PaymentMethodChoice.from_params(params)
        params.finish()
        return cls(amount, currency, customer, details, options, excluded, payment_method,
                   locked)


@dataclass(frozen=True)
class PaymentIntentConfirm:
    payment_method: PaymentMethodChoice = field(default_factory=PaymentMethodChoice)
    details: PaymentDetails = field(default_factory=PaymentDetails)  # receipt_email, shipping
    options: PaymentOptions = field(default_factory=PaymentOptions)
    confirmation: ConfirmOptions = field(default_factory=ConfirmOptions)

    @classmethod
    def from_params(cls, params: Params) -> PaymentIntentConfirm:
        payment_method = PaymentMethodChoice.from_params(params)
        details = PaymentDetails.from_params(params, ("receipt_email", "shipping"))
        options = PaymentOptions.from_params(params)
        confirmation = ConfirmOptions.from_params(params, confirming=True)
        params.finish()
        return cls(payment_method, details, options, confirmation)


@dataclass(frozen=True)
class PaymentIntentCapture:
    """All (``amount_to_capture`` not given) or part of the authorization, and the
    details that capturing may still change."""

    amount_to_capture: int | None = None
    details: PaymentDetails = field(default_factory=PaymentDetails)

    @classmethod
    def from_params(cls, params: Params) -> PaymentIntentCapture:
        amount = params.integer("amount_to_capture", minimum=1)
        details = PaymentDetails.from_params(
            params, ("metadata", "statement_descriptor", "statement_descriptor_suffix"))
        params.boolean("final_capture")  # accepted: one capture is always the final one
        params.finish()
        return cls(amount, details)
