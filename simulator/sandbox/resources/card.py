"""Cards saved on a customer as sources (https://docs.stripe.com/api/cards), the legacy
path that predates PaymentMethods and that many integrations still use.

A card comes from a token (``tok_visa`` and the other test tokens, or one made with
``POST /v1/tokens``). Saving it on a customer runs the issuer's check, so cards that
simulate issuer declines are refused with their card error
(https://docs.stripe.com/testing#declined-payments); the first card becomes the
customer's ``default_source``, and deleting the default makes the most recently added
card the default (https://docs.stripe.com/api/cards/delete). As for PaymentMethods, only
the brand, last four digits, expiry and fingerprint are kept; the fingerprint brings the
test card's behaviour back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from simulator.sandbox import cards
from simulator.sandbox.errors import CardError, InvalidRequestError, NotFoundError
from simulator.sandbox.params import Params, apply_metadata
from simulator.sandbox.resources.base import (
    Ctx,
    StripeObject,
    find,
    previous_attributes,
    save,
)
from simulator.sandbox.resources.common import UNSET, Maybe

ADDRESS_FIELDS = ("address_city", "address_country", "address_line1", "address_line2",
                  "address_state", "address_zip")
# ``brand`` on a card object is the display name (``payment_method_details`` say "visa").
BRAND_NAMES = {
    "visa": "Visa", "mastercard": "MasterCard", "amex": "American Express",
    "discover": "Discover", "diners": "Diners Club", "jcb": "JCB", "unionpay": "UnionPay",
    "cartes_bancaires": "Cartes Bancaires", "eftpos_au": "Eftpos Australia",
    "unknown": "Unknown",
}


@dataclass(kw_only=True)
class Card(StripeObject):
    OBJECT = "card"
    PREFIX = "card"
    NOUN = "source"
    FILTERS = ("customer",)
    EXPANDABLE = frozenset({"customer"})

    brand: str  # the network's lower-case name, as PaymentMethods have it
    country: str
    funding: cards.Funding
    last4: str
    fingerprint: str
    exp_month: int
    exp_year: int
    cvc_provided: bool = True
    customer: str | None = None
    name: str | None = None
    address: dict[str, str | None] = field(default_factory=dict)
    metadata: dict[str, str] = field(default_factory=dict)
    deleted: bool = False

    def is_deleted(self) -> bool:
        return self.deleted

    def profile(self) -> cards.CardProfile:
        found = cards.by_fingerprint(self.fingerprint)
        if found is not None:
            return found
        return cards.CardProfile(number="0" * 12 + self.last4, brand=self.brand,
                                 country=self.country, funding=self.funding)

    @property
    def billing_details(self) -> dict[str, Any]:
        """The card's address as a charge's ``billing_details`` shows it."""
        return {
            "address": {
                "city": self.address.get("address_city"),
                "country": self.address.get("address_country"),
                "line1": self.address.get("address_line1"),
                "line2": self.address.get("address_line2"),
                "postal_code": self.address.get("address_zip"),
                "state": self.address.get("address_state"),
            },
            "email": None,
            "name": self.name,
            "phone": None,
            "tax_id": None,
        }

    def checks(self) -> dict[str, str | None]:
        """The issuer's checks, run when the card was saved or tokenized."""
        profile = self.profile()
        return {
            "address_line1_check": (profile.line1_check
                                    if self.address.get("address_line1") else None),
            "address_zip_check": profile.postal_check if self.address.get("address_zip") else None,
            "cvc_check": profile.cvc_check if self.cvc_provided else None,
        }

    def serialize(self, ctx: Ctx) -> dict[str, Any]:
        if self.deleted:
            return {"id": self.id, "object": "card", "deleted": True}
        checks = self.checks()
        return {
            "id": self.id,
            "object": "card",
            "address_city": self.address.get("address_city"),
            "address_country": self.address.get("address_country"),
            "address_line1": self.address.get("address_line1"),
            "address_line1_check": checks["address_line1_check"],
            "address_line2": self.address.get("address_line2"),
            "address_state": self.address.get("address_state"),
            "address_zip": self.address.get("address_zip"),
            "address_zip_check": checks["address_zip_check"],
            "allow_redisplay": "unspecified",
            "brand": BRAND_NAMES.get(self.brand, self.brand.title()),
            "country": self.country,
            "customer": self.customer,
            "cvc_check": checks["cvc_check"],
            "dynamic_last4": None,
            "exp_month": self.exp_month,
            "exp_year": self.exp_year,
            "fingerprint": self.fingerprint,
            "funding": self.funding,
            "last4": self.last4,
            "metadata": dict(self.metadata),
            "name": self.name,
            "networks": {"preferred": None},
            "regulated_status": "unregulated",
            "tokenization_method": None,
            "wallet": None,
        }


def card_from_profile(ctx: Ctx, profile: cards.CardProfile, exp_month: int, exp_year: int,
                      cvc_provided: bool = True) -> Card:
    """A new, unsaved card with a test card's details."""
    return Card(
        id=ctx.ids.new("card"),
        created=ctx.now,
        brand=profile.brand,
        country=profile.country,
        funding=profile.funding,
        last4=profile.last4,
        fingerprint=profile.fingerprint,
        exp_month=exp_month,
        exp_year=exp_year,
        cvc_provided=cvc_provided,
    )


def check_chargeable(card: Card) -> None:
    """Saving a card runs the issuer's check: a card that declines every charge is
    refused with its card error."""
    profile = card.profile()
    if profile.declines_on_attach and profile.decline is not None:
        decline = profile.decline
        raise CardError(decline.message, code=decline.code, param=decline.param,
                        decline_code=decline.decline_code)


# -- a customer's sources ---------------------------------------------------------------
def source_missing(source_id: str) -> NotFoundError:
    return NotFoundError(f"No such source: '{source_id}'", code="resource_missing", param="id")


def customer_card(ctx: Ctx, customer_id: str, source_id: str) -> Card:
    """``/v1/customers/{customer}/sources/{id}``: the customer's own card, or 404."""
    card = find(ctx, Card, source_id)
    if card is None or card.is_deleted() or card.customer != customer_id:
        raise source_missing(source_id)
    return card


def newest_card(ctx: Ctx, customer_id: str) -> Card | None:
    page = ctx.store.page(Card.OBJECT, limit=1, filters={"customer": customer_id})
    return Card.from_state(page.rows[0].data) if page.rows else None


def read_card_address(params: Params) -> dict[str, str | None]:
    """The ``address_*`` fields given."""
    return {name: params.string(name) for name in ADDRESS_FIELDS if name in params}


@dataclass(frozen=True)
class CardUpdate:
    """Name, expiry, address and metadata (https://docs.stripe.com/api/cards/update);
    ``address`` holds the ``address_*`` fields given."""

    name: Maybe[str | None] = UNSET
    address: dict[str, str | None] = field(default_factory=dict)
    exp_month: int | None = None
    exp_year: int | None = None
    metadata: dict[str, str] | None = None

    @classmethod
    def from_params(cls, params: Params) -> CardUpdate:
        name = params.string("name") if "name" in params else UNSET
        address = read_card_address(params)
        month = params.integer("exp_month")
        year = params.integer("exp_year")
        if month is not None and not 1 <= month <= 12:
            raise InvalidRequestError("Your card's expiration month is invalid.",
                                      param="exp_month", code="invalid_expiry_month")
        request = cls(name, address, month, year, params.metadata())
        params.finish()
        return request


def update_card(ctx: Ctx, card: Card, request: CardUpdate) -> Card:
    before = card.serialize(ctx)
    if request.name is not UNSET:
        card.name = request.name
    card.address.update(request.address)
    card.exp_month = request.exp_month or card.exp_month
    card.exp_year = request.exp_year or card.exp_year
    card.metadata = apply_metadata(card.metadata, request.metadata)
    save(ctx, card)
    after = card.serialize(ctx)
    if after != before:
        ctx.emit("customer.source.updated", card, previous_attributes(before, after))
    return card
