"""The option hashes of ``POST /v1/checkout/sessions`` that a session keeps as given
(https://docs.stripe.com/api/checkout/sessions/create): adjustable quantities, recovery
after expiry, card options, and what ``payment_intent_data`` passes on to the
PaymentIntent made at confirmation. Typed parts of the request, each read from its hash
by ``from_params`` and kept on the session as the plain hash ``stored()`` gives; no store."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from simulator.sandbox.params import Params, apply_metadata
from simulator.sandbox.resources.common import UNSET
from simulator.sandbox.resources.payment_intent_requests import DETAIL_FIELDS, PaymentDetails

CAPTURE_METHODS = ("automatic", "automatic_async", "manual")
SETUP_FUTURE_USAGES = ("off_session", "on_session")
THREE_D_SECURE = ("any", "automatic", "challenge")


def _given(values: dict[str, Any]) -> dict[str, Any]:
    """The values a request gave (``None`` and empty metadata left out)."""
    return {key: value for key, value in values.items() if value not in (None, {})}


@dataclass(frozen=True)
class AdjustableQuantity:
    """A line item's ``adjustable_quantity``: kept for display; the hosted page does not
    offer quantity changes."""

    enabled: bool
    maximum: int | None = None
    minimum: int | None = None

    @classmethod
    def from_params(cls, adjustable: Params) -> AdjustableQuantity:
        return cls(
            enabled=bool(adjustable.boolean("enabled", required=True)),
            maximum=adjustable.integer("maximum", minimum=1, maximum=999999),
            minimum=adjustable.integer("minimum", minimum=0),
        )

    def stored(self) -> dict[str, Any]:
        return {"enabled": self.enabled, "maximum": self.maximum, "minimum": self.minimum}


@dataclass(frozen=True)
class Recovery:
    """``after_expiration[recovery]``: kept; the sandbox makes no recovery URL on expiry."""

    enabled: bool
    allow_promotion_codes: bool = False

    @classmethod
    def from_params(cls, after_expiration: Params) -> Recovery:
        recovery = after_expiration.hash("recovery", required=True)
        assert recovery is not None
        allow_promotion_codes = bool(recovery.boolean("allow_promotion_codes"))
        return cls(enabled=bool(recovery.boolean("enabled", required=True)),
                   allow_promotion_codes=allow_promotion_codes)

    def stored(self) -> dict[str, Any]:
        """The session's ``after_expiration``."""
        return {"recovery": {
            "allow_promotion_codes": self.allow_promotion_codes,
            "enabled": self.enabled,
            "expires_at": None,
            "url": None,
        }}


@dataclass(frozen=True)
class CardOptions:
    """``payment_method_options[card]``."""

    request_three_d_secure: str = "automatic"

    @classmethod
    def from_params(cls, card: Params) -> CardOptions:
        return cls(card.enum("request_three_d_secure", THREE_D_SECURE) or "automatic")

    def stored(self) -> dict[str, Any]:
        """The session's ``payment_method_options``."""
        return {"card": {"request_three_d_secure": self.request_three_d_secure}}


@dataclass(frozen=True)
class PaymentIntentData:
    """What ``payment_intent_data`` passes on to the PaymentIntent made at confirmation:
    the fields that describe it, read with the same limits as creating a PaymentIntent,
    and how it is captured and kept for later."""

    details: PaymentDetails = field(default_factory=PaymentDetails)
    capture_method: str | None = None
    setup_future_usage: str | None = None

    @classmethod
    def from_params(cls, data: Params) -> PaymentIntentData:
        return cls(
            details=PaymentDetails.from_params(data),
            capture_method=data.enum("capture_method", CAPTURE_METHODS),
            setup_future_usage=data.enum("setup_future_usage", SETUP_FUTURE_USAGES),
        )

    def stored(self) -> dict[str, Any]:
        """The values given, as the session keeps them."""
        details = self.details
        described = {name: value for name in DETAIL_FIELDS
                     if (value := getattr(details, name)) is not UNSET}
        described["metadata"] = apply_metadata({}, details.metadata)
        given = _given({"capture_method": self.capture_method,
                        "setup_future_usage": self.setup_future_usage, **described})
        return dict(sorted(given.items()))


@dataclass(frozen=True)
class SetupIntentData:
    """What ``setup_intent_data`` passes on to a ``setup`` session's SetupIntent."""

    description: str | None = None
    metadata: dict[str, str] | None = None

    @classmethod
    def from_params(cls, data: Params) -> SetupIntentData:
        data.raw("on_behalf_of")  # Connect only; accepted and ignored
        return cls(description=data.string("description", max_length=1000),
                   metadata=data.metadata())

    def stored(self) -> dict[str, Any]:
        """The values given, as the session keeps them."""
        return _given({"description": self.description,
                       "metadata": apply_metadata({}, self.metadata)})
