"""Bank transfers into a customer's cash balance through the official SDK: a
``customer_balance`` PaymentIntent shows its bank transfer instructions, the test helper
``fund_cash_balance`` sends money that is applied to the waiting payments (partly, then
fully, oldest first), the cash balance and its transactions, manual reconciliation, and
the requests Stripe refuses
(https://docs.stripe.com/payments/bank-transfers/accept-a-payment)."""

from __future__ import annotations

from typing import Any

import pytest
import requests
import stripe

from harness.servers import RunningServer

TRANSFER_OPTIONS = "payment_method_options[customer_balance][bank_transfer]"


def new_customer(client: stripe.StripeClient, **params: Any) -> str:
    return client.v1.customers.create(params={"email": "kenji@example.com", **params}).id


def bank_transfer_intent(client: stripe.StripeClient, customer: str | None, amount: int = 20_000,
                         currency: str = "jpy", kind: str = "jp_bank_transfer",
                         funding_type: str | None = "bank_transfer",
                         allowed: list[str] | None = None,
                         **transfer: Any) -> stripe.PaymentIntent:
    options: dict[str, Any] = {"bank_transfer": {"type": kind, **transfer}}
    if funding_type is not None:
        options["funding_type"] = funding_type
    params: dict[str, Any] = {
        "amount": amount, "currency": currency, "confirm": True,
        "allowed_payment_method_types": allowed or ["customer_balance"],
        "payment_method_data": {"type": "customer_balance"},
        "payment_method_options": {"customer_balance": options}}
    if customer is not None:
        params["customer"] = customer
    return client.v1.payment_intents.create(params=params)  # type: ignore[arg-type]


def fund(client: stripe.StripeClient, customer: str, amount: int, currency: str = "jpy",
         **extra: Any) -> stripe.CustomerCashBalanceTransaction:
    return client.v1.test_helpers.customers.fund_cash_balance(
        customer, params={"amount": amount, "currency": currency, **extra})


def instructions(intent: stripe.PaymentIntent) -> Any:
    assert intent.next_action is not None
    assert intent.next_action.type == "display_bank_transfer_instructions"
    return intent.next_action.display_bank_transfer_instructions


def events_about(client: stripe.StripeClient, object_id: str, *types: str) -> list[str]:
    """The types of the events whose object is ``object_id`` or names it (as its customer
    or its payment intent), oldest first."""
    page = client.v1.events.list(params={"types": list(types), "limit": 100})
    found = []
    for event in reversed(page.data):
        obj = event.data.object.to_dict()
        named = {obj.get("id"), obj.get("customer"), obj.get("payment_intent"),
                 (obj.get("applied_to_payment") or {}).get("payment_intent")}
        if object_id in named:
            found.append(event.type)
    return found


def balance(client: stripe.StripeClient, customer: str) -> dict[str, int]:
    available = client.v1.customers.cash_balance.retrieve(customer).available
    return available.to_dict() if available is not None else {}


# -- waiting for a bank transfer --------------------------------------------------------
def test_confirming_shows_the_bank_transfer_instructions(client: stripe.StripeClient) -> None:
    customer = new_customer(client)
    intent = bank_transfer_intent(client, customer)

    assert intent.status == "requires_action"
    shown = instructions(intent)
    assert (shown.amount_remaining, shown.currency, shown.type) == (20_000, "jpy",
                                                                     "jp_bank_transfer")
    assert shown.reference
    [address] = shown.financial_addresses
    assert address.type == "zengin" and address.supported_networks == ["zengin"]
    assert address.zengin.account_number.isdigit() and address.zengin.bank_code
    options = intent.payment_method_options.customer_balance
    assert options.funding_type == "bank_transfer"
    assert options.bank_transfer.type == "jp_bank_transfer"
    method = client.v1.payment_methods.retrieve(str(intent.payment_method))
    assert method.type == "customer_balance"
    assert events_about(client, intent.id, "payment_intent.requires_action") == [
        "payment_intent.requires_action"]

    again = bank_transfer_intent(client, customer, amount=5_000)
    assert instructions(again).financial_addresses[0].zengin.account_number == (
        address.zengin.account_number), "a customer keeps one virtual account"
    assert instructions(again).reference != shown.reference


@pytest.mark.parametrize(("kind", "currency", "address_types"), [
    ("us_bank_transfer", "usd", ["aba", "swift"]),
    ("gb_bank_transfer", "gbp", ["sort_code"]),
    ("mx_bank_transfer", "mxn", ["spei"]),
])
def test_each_transfer_type_shows_its_own_accounts(client: stripe.StripeClient, kind: str,
                                                   currency: str,
                                                   address_types: list[str]) -> None:
    intent = bank_transfer_intent(client, new_customer(client), amount=50_000,
                                  currency=currency, kind=kind)
    shown = instructions(intent)
    assert (shown.type, shown.currency) == (kind, currency)
    assert [a.type for a in shown.financial_addresses] == address_types
    if kind == "mx_bank_transfer":
        clabe = shown.financial_addresses[0].spei.clabe
        weights = ((3, 7, 1) * 6)[:17]  # the CLABE's check digit
        total = sum(int(d) * w % 10 for d, w in zip(clabe[:17], weights, strict=True))
        check = (10 - total % 10) % 10
        assert len(clabe) == 18 and int(clabe[-1]) == check


def test_a_euro_transfer_goes_to_an_iban_in_the_chosen_country(
        client: stripe.StripeClient) -> None:
    intent = bank_transfer_intent(client, new_customer(client), amount=10_000, currency="eur",
                                  kind="eu_bank_transfer", eu_bank_transfer={"country": "FR"})
    [address] = instructions(intent).financial_addresses
    iban = address.iban.iban
    assert address.type == "iban" and address.iban.country == "FR" and iban.startswith("FR")
    assert int("".join(str(int(c, 36)) for c in iban[4:] + iban[:4])) % 97 == 1
    options = intent.payment_method_options.customer_balance.bank_transfer
    assert options.eu_bank_transfer.country == "FR"


def test_the_older_names_of_the_transfer_types_are_accepted(
        client: stripe.StripeClient) -> None:
    intent = bank_transfer_intent(client, new_customer(client), kind="jp_bank_account")
    assert instructions(intent).type == "jp_bank_transfer"


# -- funding ----------------------------------------------------------------------------
def test_funding_pays_a_waiting_payment_partly_then_fully(client: stripe.StripeClient) -> None:
    customer = new_customer(client)
    intent = bank_transfer_intent(client, customer, amount=20_000)

    first = fund(client, customer, 10_000, reference="REF-1")
    assert (first.type, first.net_amount, first.ending_balance) == ("funded", 10_000, 10_000)
    assert first.funded.bank_transfer.type == "jp_bank_transfer"
    assert first.funded.bank_transfer.reference == "REF-1"
    partly = client.v1.payment_intents.retrieve(intent.id)
    assert partly.status == "requires_action" and partly.amount_received == 0
    assert instructions(partly).amount_remaining == 10_000
    assert balance(client, customer) == {"jpy": 0}

    fund(client, customer, 15_000)
    paid = client.v1.payment_intents.retrieve(intent.id, params={"expand": ["latest_charge"]})
    assert paid.status == "succeeded" and paid.next_action is None
    assert paid.amount_received == 20_000
    charge = paid.latest_charge
    assert isinstance(charge, stripe.Charge)
    assert charge.status == "succeeded" and charge.captured and charge.balance_transaction
    assert charge.payment_method_details.type == "customer_balance"
    assert balance(client, customer) == {"jpy": 5_000}
    assert events_about(client, intent.id, "payment_intent.partially_funded",
                        "payment_intent.succeeded", "charge.succeeded") == [
        "payment_intent.partially_funded", "charge.succeeded", "payment_intent.succeeded"]

    moves = client.v1.customers.cash_balance_transactions.list(customer).data
    assert [(m.type, m.net_amount, m.ending_balance) for m in moves] == [
        ("applied_to_payment", -10_000, 5_000), ("funded", 15_000, 15_000),
        ("applied_to_payment", -10_000, 0), ("funded", 10_000, 10_000)]
    assert moves[0].applied_to_payment.payment_intent == intent.id
    found = client.v1.customers.cash_balance_transactions.retrieve(customer, first.id)
    assert found.id == first.id and found.currency == "jpy"


def test_funds_go_to_the_oldest_waiting_payment_first(client: stripe.StripeClient) -> None:
    customer = new_customer(client)
    older = bank_transfer_intent(client, customer, amount=1_000, currency="usd",
                                 kind="us_bank_transfer")
    newer = bank_transfer_intent(client, customer, amount=1_000, currency="usd",
                                 kind="us_bank_transfer")
    euros = bank_transfer_intent(client, customer, amount=1_000, currency="eur",
                                 kind="eu_bank_transfer", eu_bank_transfer={"country": "DE"})

    fund(client, customer, 1_500, currency="usd")

    assert client.v1.payment_intents.retrieve(older.id).status == "succeeded"
    waiting = client.v1.payment_intents.retrieve(newer.id)
    assert instructions(waiting).amount_remaining == 500
    assert instructions(client.v1.payment_intents.retrieve(euros.id)).amount_remaining == 1_000


def test_a_transfer_quoting_a_reference_pays_that_payment_first(
        client: stripe.StripeClient) -> None:
    customer = new_customer(client)
    older = bank_transfer_intent(client, customer, amount=2_000, currency="gbp",
                                 kind="gb_bank_transfer")
    quoted = bank_transfer_intent(client, customer, amount=2_000, currency="gbp",
                                  kind="gb_bank_transfer")

    fund(client, customer, 2_000, currency="gbp", reference=instructions(quoted).reference)

    assert client.v1.payment_intents.retrieve(quoted.id).status == "succeeded"
    assert client.v1.payment_intents.retrieve(older.id).status == "requires_action"


def test_money_left_over_is_announced(client: stripe.StripeClient) -> None:
    customer = new_customer(client)
    assert client.v1.customers.cash_balance.retrieve(customer).available is None

    fund(client, customer, 1_000, currency="usd")

    cash = client.v1.customers.cash_balance.retrieve(customer)
    assert cash.available is not None and cash.available.to_dict() == {"usd": 1_000}
    assert cash.settings.reconciliation_mode == "automatic"
    assert cash.settings.using_merchant_default is True
    assert events_about(client, customer, "cash_balance.funds_available",
                        "customer_cash_balance_transaction.created") == [
        "customer_cash_balance_transaction.created", "cash_balance.funds_available"]
    expanded = client.v1.customers.retrieve(customer, params={"expand": ["cash_balance"]})
    assert expanded.cash_balance is not None and expanded.cash_balance.available is not None


def test_money_all_applied_is_not_announced_as_available(client: stripe.StripeClient) -> None:
    customer = new_customer(client)
    bank_transfer_intent(client, customer, amount=3_000)
    fund(client, customer, 3_000)
    assert events_about(client, customer, "cash_balance.funds_available") == []


@pytest.mark.parametrize(("funded", "status", "left"), [
    (5_000, "succeeded", 2_000),  # covered: paid at once
    (1_200, "requires_action", 0),  # short: what there is is applied, the rest awaited
])
def test_the_cash_balance_is_applied_at_confirmation(client: stripe.StripeClient, funded: int,
                                                     status: str, left: int) -> None:
    customer = new_customer(client)
    fund(client, customer, funded, currency="usd")

    intent = bank_transfer_intent(client, customer, amount=3_000, currency="usd",
                                  kind="us_bank_transfer")

    assert intent.status == status
    remaining = instructions(intent).amount_remaining if intent.next_action else 0
    assert (remaining, intent.amount_received) == (
        (0, 3_000) if status == "succeeded" else (3_000 - funded, 0))
    assert balance(client, customer) == {"usd": left}


def test_without_a_funding_type_a_short_balance_fails_the_attempt(
        client: stripe.StripeClient) -> None:
    customer = new_customer(client)
    intent = bank_transfer_intent(client, customer, amount=3_000, currency="usd",
                                  kind="us_bank_transfer", funding_type=None)
    assert intent.status == "requires_payment_method"
    assert intent.last_payment_error is not None
    assert events_about(client, intent.id, "payment_intent.payment_failed") == [
        "payment_intent.payment_failed"]


def test_canceling_gives_the_applied_money_back(client: stripe.StripeClient) -> None:
    customer = new_customer(client)
    intent = bank_transfer_intent(client, customer, amount=20_000)
    fund(client, customer, 8_000)

    canceled = client.v1.payment_intents.cancel(intent.id)

    assert canceled.status == "canceled"
    assert balance(client, customer) == {"jpy": 8_000}
    latest = client.v1.customers.cash_balance_transactions.list(customer).data[0]
    assert latest.type == "unapplied_from_payment" and latest.net_amount == 8_000
    assert latest.unapplied_from_payment.payment_intent == intent.id


def test_paying_by_card_instead_gives_the_applied_money_back(
        client: stripe.StripeClient) -> None:
    customer = new_customer(client)
    intent = bank_transfer_intent(client, customer, amount=3_000, currency="usd",
                                  kind="us_bank_transfer", allowed=["card", "customer_balance"])
    fund(client, customer, 1_000, currency="usd")

    paid = client.v1.payment_intents.confirm(intent.id,
                                             params={"payment_method": "pm_card_visa"})

    assert paid.status == "succeeded" and paid.amount_received == 3_000
    assert balance(client, customer) == {"usd": 1_000}


def test_the_3d_secure_page_cannot_complete_a_bank_transfer(
        client: stripe.StripeClient, sandbox_server: RunningServer) -> None:
    intent = bank_transfer_intent(client, new_customer(client))
    answer = requests.post(
        f"{sandbox_server.url}/_sandbox/payment_intents/{intent.id}/three_d_secure",
        data={"outcome": "fail"}, timeout=10)
    assert answer.status_code == 400
    assert client.v1.payment_intents.retrieve(intent.id).status == "requires_action"


def waiting_under_manual_reconciliation(client: stripe.StripeClient
                                        ) -> tuple[str, stripe.PaymentIntent]:
    """A customer who applies their cash balance by hand, and a $40 payment waiting."""
    customer = new_customer(client, cash_balance={"settings": {"reconciliation_mode": "manual"}})
    return customer, bank_transfer_intent(client, customer, amount=4_000, currency="usd",
                                          kind="us_bank_transfer")


def test_manual_reconciliation_waits_for_apply_customer_balance(
        client: stripe.StripeClient) -> None:
    customer, intent = waiting_under_manual_reconciliation(client)

    fund(client, customer, 10_000, currency="usd")

    assert instructions(client.v1.payment_intents.retrieve(intent.id)).amount_remaining == 4_000
    assert events_about(client, customer, "cash_balance.funds_available") == [
        "cash_balance.funds_available"]
    part = client.v1.payment_intents.apply_customer_balance(intent.id, params={"amount": 1_000})
    assert instructions(part).amount_remaining == 3_000
    paid = client.v1.payment_intents.apply_customer_balance(intent.id)
    assert paid.status == "succeeded"
    assert balance(client, customer) == {"usd": 6_000}

    settings = client.v1.customers.cash_balance.update(
        customer, params={"settings": {"reconciliation_mode": "merchant_default"}}).settings
    assert (settings.reconciliation_mode, settings.using_merchant_default) == ("automatic", True)


# -- refused ----------------------------------------------------------------------------
def test_a_customer_is_required(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as refused:
        bank_transfer_intent(client, None)
    assert refused.value.param == "customer"


def test_an_unknown_bank_transfer_type_is_refused(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as refused:
        bank_transfer_intent(client, new_customer(client), kind="ca_bank_transfer")
    assert refused.value.param == f"{TRANSFER_OPTIONS}[type]"


def test_a_euro_transfer_needs_a_country(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as refused:
        bank_transfer_intent(client, new_customer(client), currency="eur",
                             kind="eu_bank_transfer")
    assert refused.value.param == f"{TRANSFER_OPTIONS}[eu_bank_transfer][country]"


def test_the_payment_currency_must_be_the_transfer_types(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as refused:
        bank_transfer_intent(client, new_customer(client), currency="usd")
    assert refused.value.param == "currency"


@pytest.mark.parametrize("currency", ["chf", "xyz"])
def test_funding_in_a_currency_without_cash_balance_is_refused(client: stripe.StripeClient,
                                                               currency: str) -> None:
    customer = new_customer(client)
    with pytest.raises(stripe.InvalidRequestError) as refused:
        fund(client, customer, 1_000, currency=currency)
    assert refused.value.param == "currency"
    assert client.v1.customers.cash_balance_transactions.list(customer).data == []


def test_funding_in_another_currency_leaves_the_payment_waiting(
        client: stripe.StripeClient) -> None:
    customer = new_customer(client)
    intent = bank_transfer_intent(client, customer, amount=2_000)
    fund(client, customer, 2_000, currency="usd")
    assert instructions(client.v1.payment_intents.retrieve(intent.id)).amount_remaining == 2_000
    assert balance(client, customer) == {"usd": 2_000}


@pytest.mark.parametrize("amount", [0, -500])
def test_funding_needs_a_positive_amount(client: stripe.StripeClient, amount: int) -> None:
    customer = new_customer(client)
    with pytest.raises(stripe.InvalidRequestError) as refused:
        fund(client, customer, amount, currency="usd")
    assert refused.value.param == "amount"
    assert client.v1.customers.cash_balance.retrieve(customer).available is None


def test_funding_an_unknown_customer_is_not_found(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as refused:
        fund(client, "cus_doesnotexist", 1_000, currency="usd")
    assert refused.value.http_status == 404


def test_a_transaction_is_found_only_under_its_customer(client: stripe.StripeClient) -> None:
    owner, other = new_customer(client), new_customer(client)
    funded = fund(client, owner, 1_000, currency="usd")
    with pytest.raises(stripe.InvalidRequestError) as refused:
        client.v1.customers.cash_balance_transactions.retrieve(other, funded.id)
    assert refused.value.http_status == 404


def test_apply_customer_balance_needs_a_payment_waiting_for_funds(
        client: stripe.StripeClient) -> None:
    card = client.v1.payment_intents.create(params={
        "amount": 2_000, "currency": "usd", "payment_method": "pm_card_visa", "confirm": True,
        "automatic_payment_methods": {"enabled": True, "allow_redirects": "never"}})
    with pytest.raises(stripe.InvalidRequestError) as refused:
        client.v1.payment_intents.apply_customer_balance(card.id)
    assert refused.value.code == "payment_intent_unexpected_state"


def test_apply_customer_balance_cannot_take_more_than_the_balance(
        client: stripe.StripeClient) -> None:
    customer, intent = waiting_under_manual_reconciliation(client)
    fund(client, customer, 1_000, currency="usd")
    with pytest.raises(stripe.InvalidRequestError) as refused:
        client.v1.payment_intents.apply_customer_balance(intent.id, params={"amount": 2_000})
    assert refused.value.param == "amount"
