"""Test cards by what a scenario says of them (https://docs.stripe.com/testing)."""

from __future__ import annotations

from harness.pages.checkout import CardDetails

CARDS: dict[str, str] = {
    "a Visa card": "4242 4242 4242 4242",
    "a Mastercard": "5555 5555 5555 4444",
    "a card that needs authentication": "4000 0025 0000 3155",
    # https://docs.stripe.com/testing#authentication-and-setup: "Always authenticate".
    "a card that always needs authentication": "4000 0027 6000 3184",
    "a card that is declined": "4000 0000 0000 0002",
    "a card with insufficient funds": "4000 0000 0000 9995",
    "a lost card": "4000 0000 0000 9987",
    "a stolen card": "4000 0000 0000 9979",
    "an expired card": "4000 0000 0000 0069",
    "a card with an incorrect CVC": "4000 0000 0000 0127",
    "a card that hits a processing error": "4000 0000 0000 0119",
    "a card Radar sees as elevated risk": "4000 0000 0000 9235",
    "a card Radar blocks as highest risk": "4100 0000 0000 0019",
}


def card(description: str) -> CardDetails:
    try:
        return CardDetails(CARDS[description])
    except KeyError:
        raise KeyError(f"no test card {description!r}; known: {', '.join(CARDS)}") from None
