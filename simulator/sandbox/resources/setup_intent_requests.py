"""Creating, updating and confirming a SetupIntent, as typed requests read at the edge.

The API reads the form into :class:`SetupIntentCreate`, :class:`SetupIntentUpdate` or
:class:`SetupIntentConfirm` (``from_params``, which checks what can be checked without the
store, names the offending parameter and refuses what it did not read); the operations in
:mod:`.setup_intent` check what needs the store or the request's API version. A field a
request does not mention is ``UNSET`` where setting it to nothing is a change.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from simulator.sandbox.errors import InvalidRequestError
from simulator.sandbox.params import Params
from simulator.sandbox.resources.common import UNSET, Maybe
from simulator.sandbox.resources.payment_method_data import PaymentMethodChoice

USAGES = ("off_session", "on_session")
REQUEST_THREE_D_SECURE = ("automatic", "any", "challenge")
AUTOMATIC: dict[str, Any] = {"allow_redirects": "always", "enabled": True}


@dataclass(frozen=True)
class SetupIntentFields:
    """What creating and updating a SetupIntent share; only the fields given are set."""

    customer: Maybe[str | None] = UNSET
    description: Maybe[str | None] = UNSET
    metadata: dict[str, str] | None = None
    request_three_d_secure: str | None = None  # payment_method_options[card]

    @classmethod
    def from_params(cls, params: Params) -> SetupIntentFields:
        customer = params.string("customer") if "customer" in params else UNSET
        description = params.string("description") if "description" in params else UNSET
        metadata = params.metadata()
        three_d_secure = None
        options = params.hash("payment_method_options")
        card = options.hash("card") if options is not None else None
        if card is not None:
            three_d_secure = card.enum("request_three_d_secure", REQUEST_THREE_D_SECURE)
            for ignored in ("mandate_options", "network", "moto"):
                card.raw(ignored)
            card.finish()
        if options is not None:
            options.finish()
        return cls(customer, description, metadata, three_d_secure)


@dataclass(frozen=True)
class SetupIntentCreate:
    """``payment_method_types``: as given (the endive versions refuse it); the sandbox
    sets up cards only. ``automatic_payment_methods``: as the SetupIntent shows it, on
    unless the request lists its types."""

    usage: str = "off_session"
    fields: SetupIntentFields = field(default_factory=SetupIntentFields)
    payment_method_types: list[str] | None = None
    automatic_payment_methods: dict[str, Any] | None = field(
        default_factory=lambda: dict(AUTOMATIC))
    payment_method: PaymentMethodChoice = field(default_factory=PaymentMethodChoice)
    confirm: bool = False
    return_url: str | None = None

    @classmethod
    def from_params(cls, params: Params) -> SetupIntentCreate:
        usage = params.enum("usage", USAGES) or "off_session"
        fields = SetupIntentFields.from_params(params)
        given = params.strings("payment_method_types")
        types = given or params.strings("allowed_payment_method_types")
        automatic = _read_automatic(params, types)
        payment_method = PaymentMethodChoice.from_params(params)
        confirm = params.boolean("confirm") or False
        return_url = params.string("return_url")
        for accepted in ("mandate_data", "single_use", "on_behalf_of", "flow_directions",
                         "attach_to_self", "use_stripe_sdk", "confirmation_token",
                         "payment_method_configuration", "excluded_payment_method_types"):
            params.raw(accepted)
        params.finish()
        return cls(usage, fields, given, automatic, payment_method, confirm, return_url)


def _read_automatic(params: Params, types: list[str] | None) -> dict[str, Any] | None:
    automatic = params.hash("automatic_payment_methods")
    if automatic is not None and types:
        raise InvalidRequestError(
            "You may only specify one of these parameters: automatic_payment_methods,"
            " payment_method_types.", param="automatic_payment_methods")
    unsupported = [t for t in types or [] if t != "card"]
    if unsupported:
        raise InvalidRequestError(
            f"The payment method type \"{unsupported[0]}\" is invalid. The sandbox sets up"
            " cards only.", param="payment_method_types")
    if automatic is not None:
        enabled = automatic.boolean("enabled", required=True)
        redirects = automatic.enum("allow_redirects", ("always", "never")) or "always"
        return {"allow_redirects": redirects, "enabled": enabled}
    return None if types else dict(AUTOMATIC)


@dataclass(frozen=True)
class SetupIntentUpdate:
    fields: SetupIntentFields = field(default_factory=SetupIntentFields)
    payment_method: PaymentMethodChoice = field(default_factory=PaymentMethodChoice)

    @classmethod
    def from_params(cls, params: Params) -> SetupIntentUpdate:
        fields = SetupIntentFields.from_params(params)
        payment_method = PaymentMethodChoice.from_params(params)
        params.finish()
        return cls(fields, payment_method)


@dataclass(frozen=True)
class SetupIntentConfirm:
    payment_method: PaymentMethodChoice = field(default_factory=PaymentMethodChoice)
    return_url: str | None = None  # none: the SetupIntent's stays

    @classmethod
    def from_params(cls, params: Params) -> SetupIntentConfirm:
        payment_method = PaymentMethodChoice.from_params(params)
        return_url = params.string("return_url")
        for accepted in ("mandate_data", "use_stripe_sdk", "confirmation_token",
                         "payment_method_options", "client_secret"):
            params.raw(accepted)
        params.finish()
        return cls(payment_method, return_url)
