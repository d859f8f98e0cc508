"""What a placeholder in a step phrase may stand for.

A bare ``{duration}`` matches any text, so ``"{duration} pass"`` would also take a step
from another area that happens to end in "pass", and which of the two runs would depend
on the order the modules were imported. Each placeholder here matches only what it can
mean: a known test card, a length of time, an order status, a person's name."""

from __future__ import annotations

import re
from typing import Any

import parse
from pytest_bdd import parsers

from harness.clock import parse_duration
from harness.steps.cards import CARDS, CardDetails, card


def _alternatives(words: list[str]) -> str:
    """Longest first, so "a card that needs authentication" never stops short."""
    return "|".join(re.escape(word) for word in sorted(words, key=len, reverse=True))


@parse.with_pattern(_alternatives(list(CARDS)))
def card_named(text: str) -> CardDetails:
    return card(text)


@parse.with_pattern(r"\d+(?:\.\d+)? (?:second|minute|hour|day)s?")
def duration_in_seconds(text: str) -> int:
    return parse_duration(text)


@parse.with_pattern(r"created|paid|canceled|refunded")
def order_status(text: str) -> str:
    return text


@parse.with_pattern(r"[A-Z][\w'-]*(?: [A-Z][\w'-]*)*")
def person_name(text: str) -> str:
    return text


TYPES: dict[str, Any] = {"Card": card_named, "Duration": duration_in_seconds,
                         "OrderStatus": order_status, "Name": person_name}


def phrase(text: str) -> parsers.parse:
    """A step phrase whose placeholders may use the types above (``{card:Card}``)."""
    return parsers.parse(text, extra_types=TYPES)
