"""Search (https://docs.stripe.com/search) through the official SDK: queries in Stripe's
language over customers, charges, PaymentIntents, prices and products, pages followed
with ``next_page`` (the SDK's auto-paging), and Stripe's 400 for a bad query."""

from __future__ import annotations

import secrets

import pytest
import stripe


@pytest.fixture
def run() -> str:
    """A marker only this test's objects carry: the sandbox is shared by the module."""
    return secrets.token_hex(6)


def test_customers_by_email_metadata_and_negation(client: stripe.StripeClient, run: str) -> None:
    grace = client.v1.customers.create(params={
        "email": f"grace.{run}@example.com", "name": "Grace Hopper",
        "metadata": {"run": run, "tier": "gold"}})
    alan = client.v1.customers.create(params={
        "email": f"alan.{run}@example.org", "name": "Alan Turing",
        "metadata": {"run": run}})

    by_email = client.v1.customers.search(params={"query": f"email:'grace.{run}@example.com'"})
    assert [c.id for c in by_email.data] == [grace.id]
    assert by_email.object == "search_result" and by_email.has_more is False
    assert by_email.url == "/v1/customers/search" and by_email.next_page is None

    gold = client.v1.customers.search(
        params={"query": f"metadata['run']:'{run}' AND metadata['tier']:'gold'"})
    assert [c.id for c in gold.data] == [grace.id]
    not_gold = client.v1.customers.search(
        params={"query": f"metadata['run']:'{run}' -metadata['tier']:'gold'"})
    assert [c.id for c in not_gold.data] == [alan.id]
    either = client.v1.customers.search(
        params={"query": f"email:'grace.{run}@example.com' OR email~'alan.{run}'"})
    assert [c.id for c in either.data] == [alan.id, grace.id]  # newest first


def test_results_page_with_next_page_and_auto_paging(client: stripe.StripeClient,
                                                       run: str) -> None:
    made = [client.v1.products.create(params={"name": f"Lot {i}", "metadata": {"run": run}}).id
            for i in range(5)]
    query = f"metadata['run']:'{run}'"

    first = client.v1.products.search(params={"query": query, "limit": 2,
                                              "expand": ["total_count"]})
    assert first.has_more is True and first.next_page
    assert first.total_count == 5
    second = client.v1.products.search(params={"query": query, "limit": 2,
                                               "page": first.next_page})
    assert [p.id for p in first.data + second.data] == made[::-1][:4]

    everything = client.v1.products.search(params={"query": query, "limit": 2})
    assert [p.id for p in everything.auto_paging_iter()] == made[::-1]


def test_payment_intents_and_charges_by_amount_status_and_card(client: stripe.StripeClient,
                                                                run: str) -> None:
    paid = client.v1.payment_intents.create(params={
        "amount": 64_200, "currency": "usd", "payment_method": "pm_card_visa",
        "confirm": True, "metadata": {"run": run}})
    small = client.v1.payment_intents.create(params={
        "amount": 500, "currency": "usd",
        "metadata": {"run": run}})

    big = client.v1.payment_intents.search(
        params={"query": f"metadata['run']:'{run}' AND amount>=50000"})
    assert [i.id for i in big.data] == [paid.id]
    waiting = client.v1.payment_intents.search(
        params={"query": f"metadata['run']:'{run}' AND status:'requires_payment_method'"})
    assert [i.id for i in waiting.data] == [small.id]

    by_card = client.v1.charges.search(params={
        "query": f"metadata['run']:'{run}' AND payment_method_details.card.last4:'4242'"
                 " AND refunded:'false'", "expand": ["data.payment_intent"]})
    assert [c.payment_intent.id for c in by_card.data] == [paid.id]


def test_prices_by_product_and_lookup_key(client: stripe.StripeClient, run: str) -> None:
    product = client.v1.products.create(params={"name": "Bronze lamp"})
    price = client.v1.prices.create(params={
        "product": product.id, "unit_amount": 64_200, "currency": "usd",
        "lookup_key": f"lamp_{run}"})

    found = client.v1.prices.search(params={"query": f"lookup_key:'lamp_{run}'"})
    assert [p.id for p in found.data] == [price.id]
    by_product = client.v1.prices.search(
        params={"query": f"product:'{product.id}' AND active:'true'"})
    assert [p.id for p in by_product.data] == [price.id]


@pytest.mark.parametrize(("query", "message"), [
    ("colour:'red'", "Field `colour` is an unsupported search field for resource `customers`"),
    ("email:'a@b.c' AND name~'abc' OR phone:'1'", "cannot combine AND and OR"),
    ("email:", "unable to parse your search query"),
])
def test_a_bad_query_is_an_invalid_request(client: stripe.StripeClient, query: str,
                                           message: str) -> None:
    with pytest.raises(stripe.InvalidRequestError) as refused:
        client.v1.customers.search(params={"query": query})
    assert refused.value.http_status == 400
    assert refused.value.param == "query"
    assert message in str(refused.value.user_message)


def test_a_page_that_no_search_gave_is_refused(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as refused:
        client.v1.customers.search(params={"query": "name~'Grace'", "page": "garbage!"})
    assert refused.value.param == "page"


def test_a_search_needs_a_query(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as refused:
        client.v1.customers.search(params={})  # type: ignore[typeddict-item]
    assert refused.value.code == "parameter_missing" and refused.value.param == "query"
