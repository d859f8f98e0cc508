"""When to ask the card's bank for 3-D Secure, and when a payment needs a second look.

Checkout takes ``payment_method_options[card][request_three_d_secure]=any`` to request
authentication whenever the card supports it
(https://docs.stripe.com/payments/3d-secure/authentication-flow#manual-three-ds).
"""

from __future__ import annotations

from dataclasses import dataclass, field

DEFAULT_THRESHOLDS = {"usd": 50_000, "eur": 50_000, "gbp": 40_000}


@dataclass(frozen=True)
class ThreeDSecurePolicy:
    """``thresholds`` in minor units per currency; a currency without one uses
    ``default_threshold`` (None: never request 3DS for it)."""

    thresholds: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_THRESHOLDS))
    default_threshold: int | None = None

    def threshold(self, currency: str) -> int | None:
        return self.thresholds.get(currency.lower(), self.default_threshold)

    def requests_3ds(self, amount: int, currency: str) -> bool:
        limit = self.threshold(currency)
        return limit is not None and amount > limit

    def needs_review(self, amount: int, currency: str, three_ds_result: str | None) -> bool:
        """A high-value payment the bank did not authenticate (``exempted``,
        ``attempt_acknowledged``, ``not_supported``, or none): liability for fraud stays
        with us (https://docs.stripe.com/payments/3d-secure/authentication-flow#liability-shift)."""
        return self.requests_3ds(amount, currency) and three_ds_result != "authenticated"
