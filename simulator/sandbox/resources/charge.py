"""Charges (https://docs.stripe.com/api/charges): one per attempt to pay a PaymentIntent.

A charge is created by a confirmation (never directly here): ``succeeded`` when the card
authorizes, ``failed`` with ``failure_code``/``failure_message`` and an ``outcome`` of type
``issuer_declined`` or ``blocked`` when it does not (https://docs.stripe.com/declines).
Capturing moves the money into a balance transaction; capturing less than was
authorized releases the rest, which Stripe reports in ``amount_refunded``
(https://docs.stripe.com/payments/place-a-hold-on-a-payment-method). The charge's
``refunds`` list is rendered from the ids of its refunds, newest first.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from simulator.sandbox import cards
from simulator.sandbox.params import Params, apply_metadata
from simulator.sandbox.resources import balance_transaction
from simulator.sandbox.resources.base import (
    Ctx,
    StripeObject,
    list_object,
    load,
    previous_attributes,
    render_row,
    save,
)
from simulator.sandbox.resources.common import UNSET, Maybe, read_shipping


class ChargedCard(Protocol):
    """What a charge copies from the card it was made with: a PaymentMethod or a
    customer's card source (a charge refers to either by id, never imports them)."""

    @property
    def id(self) -> str: ...
    @property
    def brand(self) -> str: ...
    @property
    def country(self) -> str: ...
    @property
    def funding(self) -> cards.Funding: ...
    @property
    def last4(self) -> str: ...
    @property
    def fingerprint(self) -> str: ...
    @property
    def exp_month(self) -> int: ...
    @property
    def exp_year(self) -> int: ...
    @property
    def cvc_provided(self) -> bool: ...
    @property
    def billing_details(self) -> dict[str, Any]: ...
    def profile(self) -> cards.CardProfile: ...


class ChargedPayment(Protocol):
    """What a charge copies from the PaymentIntent it is an attempt of."""

    @property
    def id(self) -> str: ...
    @property
    def amount(self) -> int: ...
    @property
    def currency(self) -> str: ...
    @property
    def customer(self) -> str | None: ...
    @property
    def description(self) -> str | None: ...
    @property
    def receipt_email(self) -> str | None: ...
    @property
    def shipping(self) -> dict[str, Any] | None: ...
    @property
    def statement_descriptor(self) -> str | None: ...
    @property
    def statement_descriptor_suffix(self) -> str | None: ...
    @property
    def transfer_group(self) -> str | None: ...
    @property
    def metadata(self) -> dict[str, str]: ...

Status = Literal["succeeded", "pending", "failed"]
ACCOUNT_STATEMENT_DESCRIPTOR = "SANDBOX"
REFUNDS_SHOWN = 10


@dataclass(kw_only=True)
class Charge(StripeObject):
    OBJECT = "charge"
    PREFIX = "ch"
    NOUN = "charge"
    FILTERS = ("customer", "payment_intent")
    EXPANDABLE = frozenset({
        "application", "application_fee", "balance_transaction", "customer",
        "failure_balance_transaction", "on_behalf_of", "payment_intent", "review",
        "source_transfer", "transfer",
    })
    INCLUDABLE = frozenset({"refunds"})

    amount: int
    currency: str
    status: Status
    payment_method: str
    card: dict[str, Any]  # payment_method_details.card, as authorized
    outcome: dict[str, Any]
    billing_details: dict[str, Any]
    payment_intent: str | None = None
    customer: str | None = None
    captured: bool = False
    amount_captured: int = 0
    amount_refunded: int = 0
    balance_transaction: str | None = None
    description: str | None = None
    failure_code: str | None = None
    failure_message: str | None = None
    receipt_email: str | None = None
    shipping: dict[str, Any] | None = None
    statement_descriptor: str | None = None
    statement_descriptor_suffix: str | None = None
    transfer_group: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    refund_ids: list[str] = field(default_factory=list)
    source: dict[str, Any] | None = None  # the card, for charges made with a source
    # ``payment_method_details`` of a bank debit (a card's is built from ``card``).
    method_details: dict[str, Any] | None = None
    disputed: bool = False  # set when a dispute test card's dispute opens (dispute.py)

    @property
    def paid(self) -> bool:
        return self.status == "succeeded"

    @property
    def refunded(self) -> bool:
        return self.paid and self.amount_refunded >= self.amount

    @property
    def unrefunded(self) -> int:
        """What a refund may still return (the released part of a partial capture counts
        as refunded)."""
        return self.amount - self.amount_refunded

    def profile(self) -> cards.CardProfile | None:
        return cards.by_fingerprint(self.card.get("fingerprint", ""))

    def include(self, ctx: Ctx, name: str) -> Any:
        """``refunds``: one query for the newest refunds, none for a charge without any."""
        url = f"/v1/charges/{self.id}/refunds"
        if not self.refund_ids:
            return list_object(url, [], False)
        # Refunds refer to their charge; the charge names their type, not their module.
        page = ctx.store.page("refund", limit=REFUNDS_SHOWN, filters={"charge": self.id})
        data = [render_row(ctx, "refund", row.data) for row in page.rows]
        return list_object(url, data, page.has_more)

    def calculated_statement_descriptor(self) -> str:
        prefix = self.statement_descriptor or ACCOUNT_STATEMENT_DESCRIPTOR
        if self.statement_descriptor_suffix:
            return f"{prefix}* {self.statement_descriptor_suffix}"[:22]
        return prefix

    def serialize(self, ctx: Ctx) -> dict[str, Any]:
        return {
            "id": self.id,
            "object": "charge",
            "amount": self.amount,
            "amount_captured": self.amount_captured,
            "amount_refunded": self.amount_refunded,
            "application": None,
            "application_fee": None,
            "application_fee_amount": None,
            "balance_transaction": self.balance_transaction,
            "billing_details": self.billing_details,
            "calculated_statement_descriptor": self.calculated_statement_descriptor(),
            "captured": self.captured,
            "created": self.created,
            "currency": self.currency,
            "customer": self.customer,
            "description": self.description,
            "disputed": self.disputed,
            "failure_balance_transaction": None,
            "failure_code": self.failure_code,
            "failure_message": self.failure_message,
            "fraud_details": {},
            "livemode": False,
            "metadata": dict(self.metadata),
            "on_behalf_of": None,
            "outcome": self.outcome,
            "paid": self.paid,
            "payment_intent": self.payment_intent,
            "payment_method": self.payment_method,
            "payment_method_details": self.method_details or {"card": self.card, "type": "card"},
            "receipt_email": self.receipt_email,
            "receipt_number": None,
            "receipt_url": f"{ctx.base_url}/_sandbox/receipts/{self.id}",
            "refunded": self.refunded,
            "refunds": self.include(ctx, "refunds"),
            "review": None,
            "shipping": self.shipping,
            "source_transfer": None,
            "statement_descriptor": self.statement_descriptor,
            "statement_descriptor_suffix": self.statement_descriptor_suffix,
            "status": self.status,
            "transfer_data": None,
            "transfer_group": self.transfer_group,
            "source": self.source,
        }


# -- authorization ----------------------------------------------------------------------
def authorize(
    ctx: Ctx,
    *,
    charge_id: str,
    payment_intent: ChargedPayment,
    payment_method: ChargedCard,
    decline: cards.Decline | None,
    three_d_secure: dict[str, Any] | None,
) -> Charge:
    """A new (unsaved) charge for one authorization attempt of ``payment_intent``."""
    pi, pm = payment_intent, payment_method
    profile = pm.profile()
    return Charge(
        id=charge_id,
        created=ctx.now,
        amount=pi.amount,
        currency=pi.currency,
        status="failed" if decline else "succeeded",
        payment_method=pm.id,
        card=card_details(pm, profile, pi.amount, charge_id, decline, three_d_secure),
        outcome=outcome(profile, decline, charge_id),
        billing_details=pm.billing_details,
        payment_intent=pi.id,
        customer=pi.customer,
        description=pi.description,
        failure_code=decline.code if decline else None,
        failure_message=decline.message if decline else None,
        receipt_email=pi.receipt_email,
        shipping=pi.shipping,
        statement_descriptor=pi.statement_descriptor,
        statement_descriptor_suffix=pi.statement_descriptor_suffix,
        transfer_group=pi.transfer_group,
        metadata=dict(pi.metadata),
    )


def attempt_id(ctx: Ctx, payment_intent_id: str, latest_charge: str | None) -> str:
    """A PaymentIntent's first charge shares its id's tail, as on Stripe."""
    if latest_charge is None:
        return "ch_" + payment_intent_id.removeprefix("pi_")
    return f"ch_3{ctx.ids.sortable(23)}"


def method_charge(ctx: Ctx, charge_id: str, payment_intent: ChargedPayment,
                  payment_method_id: str, billing_details: dict[str, Any],
                  method_details: dict[str, Any], status: Status = "succeeded") -> Charge:
    """A new (unsaved) charge of a payment method that is not a card (a bank debit, the
    customer's cash balance): ``method_details`` is its ``payment_method_details``."""
    pi = payment_intent
    return Charge(
        id=charge_id, created=ctx.now, amount=pi.amount, currency=pi.currency, status=status,
        payment_method=payment_method_id, card={}, outcome=approved_outcome(),
        billing_details=billing_details, payment_intent=pi.id, customer=pi.customer,
        description=pi.description, receipt_email=pi.receipt_email, shipping=pi.shipping,
        metadata=dict(pi.metadata), method_details=method_details)


def approved_outcome() -> dict[str, Any]:
    """The ``outcome`` of a payment the network approved, with no card to assess."""
    return {"advice_code": None, "network_advice_code": None, "network_decline_code": None,
            "network_status": "approved_by_network", "reason": None, "risk_level": "not_assessed",
            "seller_message": "Payment complete.", "type": "authorized"}


def card_details(
    pm: ChargedCard,
    profile: cards.CardProfile,
    amount: int,
    charge_id: str,
    decline: cards.Decline | None,
    three_d_secure: dict[str, Any] | None,
) -> dict[str, Any]:
    authorized = decline is None
    digits = _digits(charge_id)
    return {
        "amount_authorized": amount if authorized else None,
        "brand": pm.brand,
        "checks": _checks(pm, profile, decline),
        "country": pm.country,
        "exp_month": pm.exp_month,
        "exp_year": pm.exp_year,
        "extended_authorization": {"status": "disabled"},
        "fingerprint": pm.fingerprint,
        "funding": pm.funding,
        "incremental_authorization": {"status": "unavailable"},
        "installments": None,
        "last4": pm.last4,
        "mandate": None,
        "multicapture": {"status": "unavailable"},
        "network": profile.networks[0],
        "network_token": {"used": False},
        "overcapture": {"maximum_amount_capturable": amount, "status": "unavailable"},
        "three_d_secure": three_d_secure,
        "wallet": None,
        "authorization_code": digits[:6] if authorized else None,
        "regulated_status": "unregulated",
        "network_transaction_id": digits[:15] if authorized else None,
        "transaction_link_id": None,
    }


def _digits(seed: str) -> str:
    """Stable pseudo-random digits for authorization codes and network ids."""
    value = zlib.crc32(seed.encode())
    return f"{value:010d}{zlib.crc32(seed[::-1].encode()):010d}"


def _checks(pm: ChargedCard, profile: cards.CardProfile, decline: cards.Decline | None
            ) -> dict[str, str | None]:
    """A check runs only when its datum was given (https://docs.stripe.com/radar/rules)."""
    address = pm.billing_details.get("address") or {}
    cvc = profile.cvc_check
    if decline is not None and decline.code == "incorrect_cvc":
        cvc = "fail"
    return {
        "address_line1_check": profile.line1_check if address.get("line1") else None,
        "address_postal_code_check": profile.postal_check if address.get("postal_code") else None,
        "cvc_check": cvc if pm.cvc_provided else None,
    }


def outcome(profile: cards.CardProfile, decline: cards.Decline | None, charge_id: str
            ) -> dict[str, Any]:
    """The ``outcome`` hash (https://docs.stripe.com/declines#understanding-declines)."""
    risk_score = _risk_score(profile.risk_level, charge_id)
    base = {
        "advice_code": decline.advice_code if decline else None,
        "network_advice_code": None,
        "network_decline_code": None,
        "network_status": "approved_by_network",
        "reason": None,
        "risk_level": profile.risk_level,
        "risk_score": risk_score,
        "seller_message": "Payment complete.",
        "type": "authorized",
    }
    if decline is None:
        if profile.risk_level == "elevated":
            base["reason"] = "elevated_risk_level"
        return base
    if decline.decline_code == "fraudulent" and profile.risk_level == "highest":
        return {**base, "network_status": "not_sent_to_network", "reason": "highest_risk_level",
                "seller_message": "Stripe blocked this payment as too risky.", "type": "blocked"}
    return {**base, "network_status": "declined_by_network", "reason": decline.decline_code,
            "seller_message": _seller_message(decline), "type": "issuer_declined"}


def _seller_message(decline: cards.Decline) -> str:
    if decline.decline_code == "generic_decline":
        return "The bank did not return any further details with this decline."
    return f"The bank returned the decline code `{decline.decline_code}`."


def _risk_score(level: str, charge_id: str) -> int:
    """Radar's 0-99 score, consistent with the level (normal < 65 <= elevated < 75)."""
    spread = zlib.crc32(charge_id.encode())
    if level == "highest":
        return 85 + spread % 15
    if level == "elevated":
        return 65 + spread % 10
    return 5 + spread % 55


def three_d_secure_details(ctx: Ctx, brand: str, flow: Literal["challenge", "frictionless"]
                           ) -> dict[str, Any]:
    """``payment_method_details.card.three_d_secure`` after a successful authentication."""
    tx = ctx.ids.hex(16)
    return {
        "authentication_flow": flow,
        "electronic_commerce_indicator": "02" if brand == "mastercard" else "05",
        "exemption_indicator": None,
        "result": "authenticated",
        "result_reason": None,
        "transaction_id": f"{tx[:8]}-{tx[8:12]}-{tx[12:16]}-{tx[16:20]}-{tx[20:]}",
        "version": "2.2.0",
    }


# -- capture and release ----------------------------------------------------------------
def capture(ctx: Ctx, charge: Charge, amount: int) -> None:
    """Capture ``amount`` of an authorized charge and record its balance transaction;
    the uncaptured rest is released (reported as refunded). The caller saves."""
    profile = charge.profile()
    charge.captured = True
    charge.amount_captured = amount
    charge.amount_refunded = charge.amount - amount
    transaction = balance_transaction.record_charge(
        ctx,
        transaction_id="txn_" + charge.id.removeprefix("ch_"),
        charge_id=charge.id,
        amount=amount,
        currency=charge.currency,
        card_country=charge.card.get("country") or _bank_country(charge),
        description=charge.description,
        bypass_pending=profile is not None and profile.bypasses_pending,
    )
    charge.balance_transaction = transaction.id


def _bank_country(charge: Charge) -> str:
    """A bank debit's country (a SEPA account's, else the US)."""
    details = (charge.method_details or {}).get("sepa_debit") or {}
    return str(details.get("country") or "US")


def release(charge: Charge) -> None:
    """Canceling an uncaptured PaymentIntent releases the whole authorization."""
    charge.amount_refunded = charge.amount


# -- operations -------------------------------------------------------------------------
def retrieve_charge(ctx: Ctx, charge_id: str) -> Charge:
    return load(ctx, Charge, charge_id)


@dataclass(frozen=True)
class ChargeUpdate:
    """``POST /v1/charges/{id}``; ``fraud_details`` is accepted, not modelled."""

    description: Maybe[str | None] = UNSET
    receipt_email: Maybe[str | None] = UNSET
    shipping: Maybe[dict[str, Any] | None] = UNSET
    transfer_group: Maybe[str | None] = UNSET
    metadata: dict[str, str] | None = None

    @classmethod
    def from_params(cls, params: Params) -> ChargeUpdate:
        text = {name: params.string(name) for name in ("description", "receipt_email")
                if name in params}
        shipping = read_shipping(params.hash("shipping")) if "shipping" in params else UNSET
        transfer_group = params.string("transfer_group") if "transfer_group" in params else UNSET
        params.raw("fraud_details")
        request = cls(**text, shipping=shipping, transfer_group=transfer_group,
                      metadata=params.metadata())
        params.finish()
        return request


def update_charge(ctx: Ctx, charge_id: str, request: ChargeUpdate) -> Charge:
    charge = load(ctx, Charge, charge_id)
    before = charge.serialize(ctx)
    for name in ("description", "receipt_email", "shipping", "transfer_group"):
        if (value := getattr(request, name)) is not UNSET:
            setattr(charge, name, value)
    charge.metadata = apply_metadata(charge.metadata, request.metadata)
    save(ctx, charge)
    after = charge.serialize(ctx)
    if after != before:
        ctx.emit("charge.updated", charge, previous_attributes(before, after))
    return charge
