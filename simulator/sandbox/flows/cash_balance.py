"""Money arriving in a customer's cash balance and going to their payments.

``POST /v1/test_helpers/customers/{customer}/fund_cash_balance`` simulates a bank transfer
from the customer (https://docs.stripe.com/api/cash_balance_transactions/fund_cash_balance):
a ``funded`` cash balance transaction, then, under automatic reconciliation
(https://docs.stripe.com/payments/customer-balance/reconciliation), the money goes to the
customer's PaymentIntents waiting for a bank transfer in that currency: the one whose
reference the transfer quotes first, then the oldest first, each taking what it still
lacks. ``cash_balance.funds_available`` follows when money is left over (always, under
manual reconciliation, where ``POST /v1/payment_intents/{intent}/apply_customer_balance``
applies it instead)."""

from __future__ import annotations

from simulator.sandbox.errors import InvalidRequestError
from simulator.sandbox.resources import bank_transfer, cash_balance
from simulator.sandbox.resources.base import Ctx, list_filters, load, save
from simulator.sandbox.resources.customer import Customer
from simulator.sandbox.resources.payment_intent import PaymentIntent
from simulator.sandbox.resources.payment_method import load_payment_method

PAGE = 100


def fund_cash_balance(ctx: Ctx, customer_id: str, funding: cash_balance.CashBalanceFunding
                      ) -> cash_balance.CashBalanceTransaction:
    customer = load(ctx, Customer, customer_id)
    amount, currency, reference = funding.amount, funding.currency, funding.reference
    kind = cash_balance.funding_currency(currency)
    funded = cash_balance.record(ctx, customer, currency, amount, "funded",
                                 cash_balance.funded_details(kind, reference))
    if customer.reconciles_automatically:
        for pi in awaiting_payments(ctx, customer.id, currency, reference):
            available = customer.cash_available[currency]
            if available <= 0:
                break
            _apply(ctx, pi, customer, min(available, pi.amount - pi.cash_applied))
    save(ctx, customer)
    if customer.cash_available[currency] > 0:
        cash_balance.funds_available(ctx, customer)
    return funded


def awaiting_payments(ctx: Ctx, customer_id: str, currency: str,
                      reference: str | None = None) -> list[PaymentIntent]:
    """The customer's PaymentIntents waiting for a bank transfer in ``currency``: the one
    whose reference is ``reference`` first, then oldest first."""
    found: list[PaymentIntent] = []
    after: tuple[int, int] | None = None
    while True:  # newest first, page by page
        page = ctx.store.page(PaymentIntent.OBJECT, limit=PAGE, after=after,
                              filters=list_filters(customer=customer_id, awaiting_funds=True))
        found += [PaymentIntent.from_state(row.data) for row in page.rows]
        if not page.has_more:
            break
        after = ctx.store.position(page.rows[-1].id, PaymentIntent.OBJECT)
    oldest_first = [pi for pi in reversed(found) if pi.currency == currency]
    quoted = [pi for pi in oldest_first
              if reference is not None and (pi.funding or {}).get("reference") == reference]
    return quoted + [pi for pi in oldest_first if pi not in quoted]


def apply_customer_balance(ctx: Ctx, pi_id: str, application: cash_balance.CashApplication
                           ) -> PaymentIntent:
    """``POST /v1/payment_intents/{intent}/apply_customer_balance``: apply ``amount`` (by
    default what the PaymentIntent still lacks) from the customer's cash balance."""
    pi = load(ctx, PaymentIntent, pi_id)
    amount, currency = application.amount, application.currency
    if not pi.awaiting_funds or pi.customer is None:
        raise pi.unexpected_state(
            ctx, "You can only apply a customer's cash balance to a customer_balance"
            f" PaymentIntent waiting for funds; this one has a status of {pi.status}.")
    if currency is not None and currency != pi.currency:
        raise InvalidRequestError(
            f"The currency provided ({currency}) does not match the PaymentIntent's"
            f" ({pi.currency}).", param="currency")
    remaining = pi.amount - pi.cash_applied
    amount = remaining if amount is None else amount
    if amount > remaining:
        raise InvalidRequestError(
            f"The amount to apply ({amount}) is more than the PaymentIntent still needs"
            f" ({remaining}).", param="amount")
    customer = load(ctx, Customer, pi.customer, "customer")
    available = customer.cash_available.get(pi.currency, 0)
    if amount > available:
        raise InvalidRequestError(
            f"The customer's cash balance ({available} {pi.currency}) is less than the amount"
            f" to apply ({amount}).", param="amount")
    _apply(ctx, pi, customer, amount)
    save(ctx, customer)
    return pi


def _apply(ctx: Ctx, pi: PaymentIntent, customer: Customer, amount: int) -> None:
    assert pi.payment_method is not None
    bank_transfer.apply_cash(ctx, pi, customer, amount,
                             load_payment_method(ctx, pi.payment_method, "payment_method"))
    save(ctx, pi)
