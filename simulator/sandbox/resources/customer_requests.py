"""Creating and updating a Customer, as typed requests read at the edge.

The API reads the form into :class:`CustomerCreate` or :class:`CustomerUpdate`
(``from_params``); the hosted page builds a ``CustomerCreate`` for the customer a
``customer_creation=always`` session makes. A field left out of an update is ``UNSET``,
which is not the same as one set to nothing (``email=`` clears it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from simulator.sandbox.params import Params
from simulator.sandbox.resources.common import UNSET, Maybe, read_address, read_shipping
from simulator.sandbox.resources.customer import TAX_EXEMPT, read_reconciliation_mode

TEXT_FIELDS = ("email", "name", "description", "phone")


@dataclass(frozen=True)
class CustomerFields:
    """What creating and updating a customer share; only the fields given are set."""

    email: Maybe[str | None] = UNSET
    name: Maybe[str | None] = UNSET
    description: Maybe[str | None] = UNSET
    phone: Maybe[str | None] = UNSET
    address: Maybe[dict[str, Any] | None] = UNSET
    shipping: Maybe[dict[str, Any] | None] = UNSET
    balance: int | None = None
    preferred_locales: list[str] | None = None
    tax_exempt: str | None = None
    default_payment_method: Maybe[str | None] = UNSET  # invoice_settings[default_payment_method]
    cash_reconciliation: str | None = None  # cash_balance[settings][reconciliation_mode]
    metadata: dict[str, str] | None = field(default=None)

    @classmethod
    def from_params(cls, params: Params) -> CustomerFields:
        text: dict[str, str | None] = {
            name: params.string(name, max_length=512) for name in TEXT_FIELDS if name in params}
        address: Maybe[dict[str, Any] | None] = UNSET
        if "address" in params:
            given = params.hash("address")
            address = read_address(given) if given and not given.is_empty() else None
        shipping = read_shipping(params.hash("shipping")) if "shipping" in params else UNSET
        default_pm: Maybe[str | None] = UNSET
        invoice_settings = params.hash("invoice_settings")
        if invoice_settings is not None and "default_payment_method" in invoice_settings:
            default_pm = invoice_settings.string("default_payment_method")
        return cls(**text, address=address, shipping=shipping,
                   balance=params.integer("balance"),
                   preferred_locales=params.strings("preferred_locales"),
                   tax_exempt=params.enum("tax_exempt", TAX_EXEMPT),
                   cash_reconciliation=read_reconciliation_mode(params.hash("cash_balance")),
                   default_payment_method=default_pm, metadata=params.metadata())


@dataclass(frozen=True)
class CustomerCreate:
    fields: CustomerFields = field(default_factory=CustomerFields)
    test_clock: str | None = None
    payment_method: str | None = None  # attached at creation
    source: str | None = None  # a card token, the customer's first card

    @classmethod
    def from_params(cls, params: Params) -> CustomerCreate:
        test_clock = params.string("test_clock")
        payment_method = params.string("payment_method")
        source = params.string("source")
        return cls(CustomerFields.from_params(params), test_clock, payment_method, source)


@dataclass(frozen=True)
class CustomerUpdate:
    fields: CustomerFields = field(default_factory=CustomerFields)
    source: str | None = None  # a card token: replaces the default card
    default_source: Maybe[str | None] = UNSET

    @classmethod
    def from_params(cls, params: Params) -> CustomerUpdate:
        fields = CustomerFields.from_params(params)
        source = params.string("source")
        default_source = params.string("default_source") if "default_source" in params else UNSET
        return cls(fields, source, default_source)
