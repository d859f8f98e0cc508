"""A customer's card sources (https://docs.stripe.com/api/cards): adding one from a token,
listing, retrieving, updating and deleting them, and keeping ``default_source`` right.

Rules from the API reference: the first card a customer gets becomes its default; adding
more leaves the default alone; ``source`` on a customer update replaces the default card;
deleting the default makes the most recently added card the default, or none. Each
change emits ``customer.source.created``/``updated``/``deleted``, and ``customer.updated``
when the default moves.
"""

from __future__ import annotations

from dataclasses import dataclass

from simulator.sandbox.errors import InvalidRequestError
from simulator.sandbox.params import Params, apply_metadata
from simulator.sandbox.resources.base import Ctx, load, previous_attributes, save
from simulator.sandbox.resources.card import (
    Card,
    CardUpdate,
    check_chargeable,
    customer_card,
    newest_card,
    update_card,
)
from simulator.sandbox.resources.customer import Customer
from simulator.sandbox.resources.token import card_for_source

SOURCE_OBJECTS = ("card", "bank_account", "source", "account")


def prepare_source(ctx: Ctx, source: str, param: str = "source") -> Card:
    """The card a token stands for, refused before anything is written if the issuer
    declines it (card errors commit what was written before them)."""
    if not source.startswith("tok_"):
        raise InvalidRequestError(f"No such token: '{source}'", code="resource_missing",
                                  param=param)
    card = card_for_source(ctx, source, param)
    check_chargeable(card)
    return card


def add_card(ctx: Ctx, customer: Customer, card: Card) -> Card:
    """Save ``card`` on ``customer`` (already saved); the first card becomes the default.
    The caller saves the customer when its default changed."""
    card.customer = customer.id
    save(ctx, card)
    ctx.emit("customer.source.created", card)
    if customer.default_source is None:
        customer.default_source = card.id
    return card


@dataclass(frozen=True)
class SourceCreate:
    """``POST /v1/customers/{customer}/sources`` with ``source=tok_…``; ``validate`` is
    accepted (the card is always checked)."""

    source: str
    metadata: dict[str, str] | None = None

    @classmethod
    def from_params(cls, params: Params) -> SourceCreate:
        request = cls(params.required_string("source"), params.metadata())
        params.boolean("validate")
        params.finish()
        return request


def create_source(ctx: Ctx, customer_id: str, request: SourceCreate) -> Card:
    customer = load(ctx, Customer, customer_id)
    card = prepare_source(ctx, request.source)
    card.metadata = apply_metadata({}, request.metadata)
    before = customer.serialize(ctx)
    add_card(ctx, customer, card)
    _save_customer(ctx, customer, before)
    return card


def replace_default_source(ctx: Ctx, customer: Customer, card: Card) -> None:
    """``source`` on a customer update: the new card becomes the default and the old
    default card is deleted (the caller saves the customer and emits its update)."""
    old = customer.default_source
    customer.default_source = None
    add_card(ctx, customer, card)
    customer.default_source = card.id
    if old is not None:
        _delete_card(ctx, customer_card(ctx, customer.id, old))


def set_default_source(ctx: Ctx, customer: Customer, source_id: str | None) -> None:
    """``default_source`` on a customer update: one of its own cards."""
    if source_id is None:
        customer.default_source = None
        return
    card = load(ctx, Card, source_id, "default_source") if source_id.startswith("card_") else None
    if card is None or card.customer != customer.id:
        raise InvalidRequestError(
            f"No such source: '{source_id}'", code="resource_missing", param="default_source")
    customer.default_source = card.id


def update_source(ctx: Ctx, customer_id: str, source_id: str, request: CardUpdate) -> Card:
    load(ctx, Customer, customer_id)
    return update_card(ctx, customer_card(ctx, customer_id, source_id), request)


def delete_source(ctx: Ctx, customer_id: str, source_id: str) -> Card:
    """Deleting twice is refused as an unknown source (404)."""
    customer = load(ctx, Customer, customer_id)
    card = customer_card(ctx, customer_id, source_id)
    before = customer.serialize(ctx)
    _delete_card(ctx, card)
    if customer.default_source == card.id:
        successor = newest_card(ctx, customer.id)
        customer.default_source = successor.id if successor else None
    _save_customer(ctx, customer, before)
    return card


def _delete_card(ctx: Ctx, card: Card) -> None:
    shown = Card.from_state(card.state())
    card.deleted = True
    save(ctx, card)
    ctx.emit("customer.source.deleted", shown)


def _save_customer(ctx: Ctx, customer: Customer, before: dict[str, object]) -> None:
    after = customer.serialize(ctx)
    if after != before:
        save(ctx, customer)
        ctx.emit("customer.updated", customer, previous_attributes(before, after))


def source_object(params: Params) -> str | None:
    """The ``object`` filter of the sources list (the sandbox keeps only cards)."""
    value = params.string("object")
    if value is not None and value not in SOURCE_OBJECTS:
        raise InvalidRequestError(
            f"Invalid object: must be one of {', '.join(SOURCE_OBJECTS)}", param="object")
    return value
