"""Balance transactions (https://docs.stripe.com/api/balance_transactions): the money a
captured charge brings in, net of Stripe's fee, and the money a refund takes out.

Fees follow Stripe's US pricing (https://stripe.com/pricing): 2.9% + 30¢ per successful
card charge, plus 1.5% for cards issued outside the US. The sandbox does no currency
conversion, so a charge's transaction is in the charge's currency (``exchange_rate`` null),
and zero-decimal currencies pay the percentage only. Funds become available two days
after the charge (https://docs.stripe.com/payouts#standard-payout-timing); the
``bypassPending`` test cards make them available at once. ``status`` is derived from
``available_on`` and the sandbox clock, so it moves with ``/_sandbox/clock/advance``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from simulator.sandbox.params import ZERO_DECIMAL_CURRENCIES
from simulator.sandbox.resources.base import Ctx, StripeObject, save

Type = Literal["charge", "refund", "refund_failure", "adjustment"]
AVAILABLE_AFTER_SECONDS = 2 * 24 * 3600
FEE_BASIS_POINTS = 290
INTERNATIONAL_BASIS_POINTS = 150
FIXED_FEE = 30


@dataclass(kw_only=True)
class BalanceTransaction(StripeObject):
    OBJECT = "balance_transaction"
    PREFIX = "txn"
    NOUN = "balance_transaction"
    FILTERS = ("charge", "type")
    EXPANDABLE = frozenset({"source"})

    amount: int
    currency: str
    type: Type
    source: str
    available_on: int
    fee: int = 0
    fee_details: list[dict[str, Any]] = field(default_factory=list)
    description: str | None = None
    reporting_category: str | None = None  # when it is not the type ("dispute", ...)

    def index(self) -> dict[str, str | None]:
        # The ``charge`` filter holds the source (a charge or a refund) for ``source=``.
        return {"charge": self.source, "type": self.type}

    @property
    def net(self) -> int:
        return self.amount - self.fee

    def status(self, ctx: Ctx) -> str:
        return "available" if ctx.now >= self.available_on else "pending"

    def serialize(self, ctx: Ctx) -> dict[str, Any]:
        return {
            "id": self.id,
            "object": "balance_transaction",
            "amount": self.amount,
            "available_on": self.available_on,
            "balance_type": "payments",
            "created": self.created,
            "currency": self.currency,
            "description": self.description,
            "exchange_rate": None,
            "fee": self.fee,
            "fee_details": [dict(detail) for detail in self.fee_details],
            "net": self.net,
            "reporting_category": self.reporting_category or self.type,
            "source": self.source,
            "status": self.status(ctx),
            "type": self.type,
        }


def processing_fee(amount: int, currency: str, card_country: str) -> int:
    """Stripe's card fee, rounded half up to the currency's smallest unit."""
    basis_points = FEE_BASIS_POINTS + (INTERNATIONAL_BASIS_POINTS if card_country != "US" else 0)
    fixed = 0 if currency in ZERO_DECIMAL_CURRENCIES else FIXED_FEE
    return (amount * basis_points + 5_000) // 10_000 + fixed


def record_charge(
    ctx: Ctx,
    *,
    transaction_id: str,
    charge_id: str,
    amount: int,
    currency: str,
    card_country: str,
    description: str | None,
    bypass_pending: bool = False,
) -> BalanceTransaction:
    """The transaction of a captured charge (saved)."""
    fee = processing_fee(amount, currency, card_country)
    transaction = BalanceTransaction(
        id=transaction_id,
        created=ctx.now,
        amount=amount,
        currency=currency,
        type="charge",
        source=charge_id,
        available_on=ctx.now if bypass_pending else ctx.now + AVAILABLE_AFTER_SECONDS,
        fee=fee,
        fee_details=[{
            "amount": fee,
            "application": None,
            "currency": currency,
            "description": "Stripe processing fees",
            "type": "stripe_fee",
        }],
        description=description,
    )
    save(ctx, transaction)
    return transaction


def record_refund(
    ctx: Ctx, *, refund_id: str, amount: int, currency: str, failed: bool = False
) -> BalanceTransaction:
    """A refund takes ``amount`` out of the balance at once; a failed refund puts it back.
    Stripe keeps the original charge's fee (https://stripe.com/pricing)."""
    transaction = BalanceTransaction(
        id=ctx.ids.new("txn"),
        created=ctx.now,
        amount=amount if failed else -amount,
        currency=currency,
        type="refund_failure" if failed else "refund",
        source=refund_id,
        available_on=ctx.now,
        description="REFUND FAILURE" if failed else "REFUND FOR CHARGE",
    )
    save(ctx, transaction)
    return transaction


DISPUTE_FEE = 1500  # https://stripe.com/pricing: $15.00 per dispute


def record_dispute_funds(ctx: Ctx, *, dispute_id: str, amount: int, currency: str,
                         reinstated: bool = False) -> BalanceTransaction:
    """A chargeback withdraws the disputed amount and the dispute fee at once; a won
    dispute reinstates the amount (the fee stays, as on Stripe's US pricing)."""
    fee = 0 if reinstated or currency in ZERO_DECIMAL_CURRENCIES else DISPUTE_FEE
    transaction = BalanceTransaction(
        id=ctx.ids.new("txn"),
        created=ctx.now,
        amount=amount if reinstated else -amount,
        currency=currency,
        type="adjustment",
        source=dispute_id,
        available_on=ctx.now,
        fee=fee,
        fee_details=[{"amount": fee, "application": None, "currency": currency,
                      "description": "Dispute fee", "type": "stripe_fee"}] if fee else [],
        description=("Chargeback reversal for " if reinstated else "Chargeback withdrawal for ")
        + dispute_id,
        reporting_category="dispute_reversal" if reinstated else "dispute",
    )
    save(ctx, transaction)
    return transaction


# -- amounts in Stripe's error messages -------------------------------------------------
_SYMBOLS = {
    "usd": "$", "cad": "$", "aud": "$", "nzd": "$", "sgd": "$", "hkd": "$", "mxn": "$",
    "eur": "€", "gbp": "£", "jpy": "¥", "cny": "¥", "inr": "₹", "krw": "₩", "brl": "R$",
}


def format_amount(amount: int, currency: str) -> str:
    """``$1.50``, ``€0.50``, ``¥50``: an amount in minor units as Stripe's messages show it."""
    symbol = _SYMBOLS.get(currency)
    if currency in ZERO_DECIMAL_CURRENCIES:
        number = f"{amount:,}"
    else:
        number = f"{amount // 100:,}.{amount % 100:02d}"
    return f"{symbol}{number}" if symbol else f"{number} {currency.upper()}"
