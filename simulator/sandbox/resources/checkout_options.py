"""The option hashes of ``POST /v1/checkout/sessions`` that a session keeps as given
(https://docs.stripe.com/api/checkout/sessions/create): adjustable quantities, recovery
after expiry, card options, and what ``payment_intent_data`` passes on to the
PaymentIntent made at confirmation. Pure readers of the request; no store."""

from __future__ import annotations

from typing import Any

from simulator.sandbox.params import Params, apply_metadata
from simulator.sandbox.resources.common import read_shipping

CAPTURE_METHODS = ("automatic", "automatic_async", "manual")
SETUP_FUTURE_USAGES = ("off_session", "on_session")
THREE_D_SECURE = ("any", "automatic", "challenge")


def read_adjustable_quantity(params: Params) -> dict[str, Any] | None:
    """Kept for display; the hosted page does not offer quantity changes."""
    adjustable = params.hash("adjustable_quantity")
    if adjustable is None:
        return None
    return {
        "enabled": adjustable.boolean("enabled", required=True),
        "maximum": adjustable.integer("maximum", minimum=1, maximum=999999),
        "minimum": adjustable.integer("minimum", minimum=0),
    }


def read_after_expiration(params: Params) -> dict[str, Any] | None:
    """Recovery settings are kept; the sandbox makes no recovery URL on expiry."""
    after = params.hash("after_expiration")
    recovery = after.hash("recovery", required=True) if after is not None else None
    if recovery is None:
        return None
    return {"recovery": {
        "allow_promotion_codes": bool(recovery.boolean("allow_promotion_codes")),
        "enabled": bool(recovery.boolean("enabled", required=True)),
        "expires_at": None,
        "url": None,
    }}


def read_payment_method_options(params: Params) -> dict[str, Any]:
    options = params.hash("payment_method_options")
    card = options.hash("card") if options is not None else None
    if card is None:
        return {}
    three_d_secure = card.enum("request_three_d_secure", THREE_D_SECURE) or "automatic"
    return {"card": {"request_three_d_secure": three_d_secure}}


def read_payment_intent_data(params: Params) -> dict[str, Any]:
    """What ``payment_intent_data`` passes on to the PaymentIntent made at confirmation."""
    data = params.hash("payment_intent_data")
    if data is None:
        return {}
    values: dict[str, Any] = {
        "capture_method": data.enum("capture_method", CAPTURE_METHODS),
        "description": data.string("description", max_length=1000),
        "metadata": apply_metadata({}, data.metadata()),
        "receipt_email": data.string("receipt_email"),
        "setup_future_usage": data.enum("setup_future_usage", SETUP_FUTURE_USAGES),
        "shipping": read_shipping(data.hash("shipping")),
        "statement_descriptor": data.string("statement_descriptor", max_length=22),
        "statement_descriptor_suffix": data.string("statement_descriptor_suffix", max_length=22),
        "transfer_group": data.string("transfer_group"),
    }
    return {key: value for key, value in values.items() if value not in (None, {})}


def read_setup_intent_data(params: Params) -> dict[str, Any]:
    """What ``setup_intent_data`` passes on to a ``setup`` session's SetupIntent."""
    data = params.hash("setup_intent_data")
    if data is None:
        return {}
    data.raw("on_behalf_of")  # Connect only; accepted and ignored
    values: dict[str, Any] = {
        "description": data.string("description", max_length=1000),
        "metadata": apply_metadata({}, data.metadata()),
    }
    return {key: value for key, value in values.items() if value not in (None, {})}
