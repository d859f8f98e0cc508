"""Card numbers (PANs) where they do not belong: found and masked before the service
stores, logs, mails or shows any text.

A card number is 13 to 19 digits, possibly grouped by single spaces or dashes, whose
last digit is its Luhn check digit (ISO/IEC 7812). Buyers type them into the wrong field
(the cardholder's name on Stripe's page), and that text comes back to the service inside
webhook payloads (``billing_details.name``, ``customer_details.name``). PCI DSS lets a
merchant show at most the first six and last four digits; we keep the last four
(https://docs.stripe.com/security/guide).

A number is made of whole groups of digits: in ``4242424242424242 12 34 123`` (a number
typed with its expiry and CVC) the first group is found, though the run of 25 digits is
not one. Digits that are part of a word (``cs_test_a1…``, a hex digest) are not a number.
After masking, no such number is left in the text.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

MIN_DIGITS, MAX_DIGITS = 13, 19
KEPT_DIGITS = 4
MASK = "*"
# Groups of digits joined by single spaces or dashes: where a number can hide. Digits
# inside a word (a Stripe id, a SHA-256 in hex) are part of that word, not a number.
_DIGIT_RUN = re.compile(r"(?<![0-9A-Za-z])[0-9]+(?:[ -][0-9]+)*(?![0-9A-Za-z])")
_GROUP = re.compile(r"[0-9]+")
# Thirteen digits at least, so most text is passed over in one scan.
_CANDIDATE = re.compile(r"[0-9](?:[ -]?[0-9]){12}")


def luhn_valid(digits: str) -> bool:
    """Whether ``digits`` (digits only) ends with its Luhn check digit."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = ord(char) - 48
        if position % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def is_card_number(text: str) -> bool:
    """Whether ``text`` as a whole is a card number (separators allowed)."""
    digits = re.sub(r"[ -]", "", text)
    return (digits.isascii() and digits.isdigit() and MIN_DIGITS <= len(digits) <= MAX_DIGITS
            and _DIGIT_RUN.fullmatch(text) is not None and luhn_valid(digits))


@dataclass(frozen=True)
class CardNumberMatch:
    """A card number found in a text: ``start``/``end`` index the text itself."""

    start: int
    end: int
    digits: str

    @property
    def last4(self) -> str:
        return self.digits[-KEPT_DIGITS:]


def find_card_numbers(text: str) -> list[CardNumberMatch]:
    """Every card number in ``text``, overlapping ones included, in order."""
    if _CANDIDATE.search(text) is None:
        return []
    return [match for run in _DIGIT_RUN.finditer(text) for match in _in_run(run)]


def contains_card_number(text: str) -> bool:
    if _CANDIDATE.search(text) is None:
        return False
    return any(True for run in _DIGIT_RUN.finditer(text) for _ in _in_run(run))


def _in_run(run: re.Match[str]) -> Iterator[CardNumberMatch]:
    """Each sequence of whole, consecutive groups of one run with 13 to 19 digits in
    all that passes Luhn."""
    if run.end() - run.start() < MIN_DIGITS:
        return
    groups = [(run.start() + g.start(), g.group()) for g in _GROUP.finditer(run.group())]
    for first, (start, _) in enumerate(groups):
        digits = ""
        for end_at, group in groups[first:]:
            digits += group
            if len(digits) > MAX_DIGITS:
                break
            if len(digits) >= MIN_DIGITS and luhn_valid(digits):
                yield CardNumberMatch(start, end_at + len(group), digits)


def mask_card_numbers(text: str) -> str:
    """``text`` with every digit of every card number but its last four replaced by
    ``*``; separators stay, so ``4242 4242 4242 4242`` reads ``**** **** **** 4242``.
    Masking is repeated until nothing changes: the four digits kept of one number never
    make another with the groups that follow them."""
    while (masked := _mask_once(text)) != text:
        text = masked
    return text


def _mask_once(text: str) -> str:
    if not text or len(text) < MIN_DIGITS:
        return text
    hidden: set[int] = set()
    for match in find_card_numbers(text):
        kept = _last_digit_positions(text, match, KEPT_DIGITS)
        hidden.update(i for i in range(match.start, match.end)
                      if "0" <= text[i] <= "9" and i not in kept)
    if not hidden:
        return text
    return "".join(MASK if i in hidden else char for i, char in enumerate(text))


def _last_digit_positions(text: str, match: CardNumberMatch, count: int) -> set[int]:
    digit_positions = [i for i in range(match.start, match.end) if "0" <= text[i] <= "9"]
    return set(digit_positions[-count:])


def mask_in(value: Any) -> Any:
    """A JSON-like value with card numbers masked in every string (keys included) and
    every integer that is one. Returns ``value`` itself when nothing needed masking."""
    if isinstance(value, str):
        return mask_card_numbers(value)
    if isinstance(value, int) and not isinstance(value, bool):
        text = str(value)
        return mask_card_numbers(text) if contains_card_number(text) else value
    if isinstance(value, Mapping):
        pairs = [(mask_in(key), mask_in(item)) for key, item in value.items()]
        changed = any(mk is not k or mv is not v
                      for (mk, mv), (k, v) in zip(pairs, value.items(), strict=True))
        return dict(pairs) if changed else value
    if isinstance(value, list | tuple):
        items = [mask_in(item) for item in value]
        if all(new is old for new, old in zip(items, value, strict=True)):
            return value
        return tuple(items) if isinstance(value, tuple) else items
    return value


def mask_card_numbers_in_json(text: str) -> str:
    """A JSON document (a webhook payload) with card numbers masked in its values; the
    text itself when there were none. Text that is not JSON is masked as text."""
    if not contains_card_number(text):
        return text
    try:
        document = json.loads(text)
    except ValueError:
        return mask_card_numbers(text)
    masked = mask_in(document)
    if masked is document:
        return mask_card_numbers(text)
    return json.dumps(masked, ensure_ascii=False)
