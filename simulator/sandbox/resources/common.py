"""Hashes that several Stripe objects share: addresses, billing details, shipping; and
``UNSET``, the value of a typed request's field that the request does not mention."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any, TypeAlias, TypeVar, Union

from simulator.sandbox.params import Params

ADDRESS_FIELDS = ("city", "country", "line1", "line2", "postal_code", "state")


class Unset(enum.Enum):
    """A field the request does not mention (not the same as one set to nothing)."""

    UNSET = "unset"


UNSET = Unset.UNSET
T = TypeVar("T")
Maybe: TypeAlias = Union[T, Unset]  # noqa: UP007 (a generic alias needs Union)


def empty_address() -> dict[str, Any]:
    return {name: None for name in ADDRESS_FIELDS}


def read_address(params: Params | None) -> dict[str, Any] | None:
    if params is None:
        return None
    address = {name: params.string(name) for name in ADDRESS_FIELDS}
    return address


def read_shipping(params: Params | None) -> dict[str, Any] | None:
    if params is None:
        return None
    if params.is_empty():
        return None
    return {
        "address": read_address(params.hash("address", required=True)) or empty_address(),
        "name": params.required_string("name"),
        "phone": params.string("phone"),
    }


def empty_billing_details() -> dict[str, Any]:
    return {
        "address": empty_address(),
        "email": None,
        "name": None,
        "phone": None,
        "tax_id": None,
    }


@dataclass(frozen=True)
class Cancellation:
    """A request to cancel a PaymentIntent or a SetupIntent, with Stripe's reason."""

    reason: str | None = None

    @classmethod
    def from_params(cls, params: Params, reasons: tuple[str, ...]) -> Cancellation:
        return cls(params.enum("cancellation_reason", reasons))
