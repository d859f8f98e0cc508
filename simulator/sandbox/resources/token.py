"""Card tokens (https://docs.stripe.com/api/tokens): what ``source`` takes on customers and
charges.

Stripe's test tokens (``tok_visa``, ``tok_mastercard``, ``tok_chargeDeclined``, ...;
https://docs.stripe.com/testing#cards) can be used any number of times, each use giving
a new card. A token made with ``POST /v1/tokens`` from card details is stored and can be
used once: a second use is refused, as on Stripe.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from simulator.sandbox import cards
from simulator.sandbox.errors import InvalidRequestError, resource_missing
from simulator.sandbox.params import Params
from simulator.sandbox.resources.base import Ctx, StripeObject, find, save
from simulator.sandbox.resources.card import Card, card_from_profile, read_card_address
from simulator.sandbox.resources.payment_method import (
    _test_expiry,
    _validate_cvc,
    _validate_expiry,
    _validate_number,
)


@dataclass(kw_only=True)
class Token(StripeObject):
    OBJECT = "token"
    PREFIX = "tok"
    NOUN = "token"

    card: dict[str, Any]  # the state of the card the token stands for (not stored apart)
    used: bool = False

    def card_object(self) -> Card:
        return Card.from_state(dict(self.card))

    def serialize(self, ctx: Ctx) -> dict[str, Any]:
        card = self.card_object().serialize(ctx)
        card.pop("customer", None)
        return {
            "id": self.id,
            "object": "token",
            "card": card,
            "client_ip": None,
            "created": self.created,
            "livemode": False,
            "type": "card",
            "used": self.used,
        }


def _test_token(ctx: Ctx, token_id: str, profile: cards.CardProfile) -> Token:
    month, year = _test_expiry(ctx)
    card = card_from_profile(ctx, profile, month, year)
    return Token(id=token_id, created=ctx.now, card=card.state())


def retrieve_token(ctx: Ctx, token_id: str) -> Token:
    """A stored token, or a test token shown as Stripe shows it (never stored)."""
    stored = find(ctx, Token, token_id)
    if stored is not None:
        return stored
    profile = cards.by_token(token_id)
    if profile is None:
        raise resource_missing("token", token_id)
    return _test_token(ctx, token_id, profile)


@dataclass(frozen=True)
class TokenCreate:
    """``POST /v1/tokens`` with ``card[number]``, ``card[exp_month]``, ``card[exp_year]``,
    ``card[cvc]``, ``card[name]`` and ``card[address_*]`` (``address`` holds those given);
    ``card[currency]`` is accepted, not modelled."""

    number: str
    exp_month: int
    exp_year: int
    cvc: str | None = None
    name: str | None = None
    address: dict[str, str | None] = field(default_factory=dict)

    @classmethod
    def from_params(cls, params: Params) -> TokenCreate:
        details = params.hash("card", required=True)
        assert details is not None
        request = cls(details.required_string("number"), details.required_integer("exp_month"),
                      details.required_integer("exp_year"), details.string("cvc"),
                      details.string("name"), read_card_address(details))
        details.string("currency")
        details.raw("networks")
        params.finish()
        return request


def create_token(ctx: Ctx, request: TokenCreate) -> Token:
    number = _validate_number(request.number)
    exp_year = _validate_expiry(ctx, request.exp_month, request.exp_year)
    profile = cards.by_number(number)
    _validate_cvc(request.cvc, profile.brand)
    card = card_from_profile(ctx, profile, request.exp_month, exp_year,
                             cvc_provided=request.cvc is not None)
    card.name = request.name
    card.address = dict(request.address)
    token = Token(id=ctx.ids.new("tok"), created=ctx.now, card=card.state())
    save(ctx, token)
    return token


def card_for_source(ctx: Ctx, source: str, param: str = "source") -> Card:
    """The new (unsaved) card a token given as ``source`` stands for; a stored token is
    spent."""
    stored = find(ctx, Token, source)
    if stored is None:
        profile = cards.by_token(source)
        if profile is None:
            raise resource_missing("token", source, param)
        return _test_token(ctx, source, profile).card_object()
    if stored.used:
        raise InvalidRequestError(f"You cannot use a Stripe token more than once: {source}.",
                                  param=param)
    stored.used = True
    save(ctx, stored)
    return stored.card_object()
