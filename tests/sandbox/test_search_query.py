"""Stripe's search query language: what each clause matches, how clauses combine, and
the 400s for queries Stripe refuses (https://docs.stripe.com/search#search-query-language)."""

from __future__ import annotations

from typing import Any

import pytest

from simulator.sandbox.errors import InvalidRequestError
from simulator.sandbox.search_query import parse_query

GRACE: dict[str, Any] = {"id": "cus_1", "object": "customer", "email": "Grace@Example.com",
                         "name": "Grace Hopper", "phone": None, "created": 1_700_000_000,
                         "metadata": {"tier": "gold", "order": "42"}}
ALAN: dict[str, Any] = {"id": "cus_2", "object": "customer", "email": "alan@example.org",
                        "name": "Alan Turing", "phone": "+441234", "created": 1_700_000_500,
                        "metadata": {}}
CHARGE: dict[str, Any] = {"id": "ch_1", "object": "charge", "amount": 64200,
                          "currency": "usd", "refunded": False, "disputed": False,
                          "status": "succeeded", "customer": {"id": "cus_1"},
                          "payment_method_details": {"card": {"last4": "4242",
                                                              "brand": "visa"}},
                          "metadata": {}, "created": 1_700_000_000}


def customers(query: str) -> list[str]:
    parsed = parse_query(query, "customers")
    return [c["id"] for c in (GRACE, ALAN) if parsed.matches(c)]


@pytest.mark.parametrize(("query", "expected"), [
    ("email:'grace@example.com'", ["cus_1"]),  # exact, case-insensitive
    ('email:"grace@example"', []),  # exact means the whole value
    ("email~'example'", ["cus_1", "cus_2"]),
    ("name~'turing'", ["cus_2"]),
    ("-email:'grace@example.com'", ["cus_2"]),
    ("metadata['tier']:'gold'", ["cus_1"]),
    ('metadata["tier"]:"silver"', []),
    ("-metadata['tier']:null", ["cus_1"]),  # has the key
    ("metadata['tier']:null", ["cus_2"]),
    ("phone:null", ["cus_1"]),
    ("created>1700000000", ["cus_2"]),
    ("created>=1700000000", ["cus_1", "cus_2"]),
    ("created<1700000500 AND name~'hop'", ["cus_1"]),
    ("created<1700000500 name~'tur'", []),  # a space is AND
    ("name~'hop' OR name~'tur'", ["cus_1", "cus_2"]),
    ("name~'hop' or email:'nobody@example.com'", ["cus_1"]),  # keywords in any case
])
def test_what_a_query_matches(query: str, expected: list[str]) -> None:
    assert customers(query) == expected


def test_charges_match_nested_fields_booleans_and_expandable_ids() -> None:
    for query, expected in [
        ("payment_method_details.card.last4:'4242'", True),
        ("payment_method_details.card.brand:'mastercard'", False),
        ("refunded:'false' AND amount>=64200", True),
        ("disputed:'true'", False),
        ("customer:'cus_1' AND currency:'usd' AND status:'succeeded'", True),
        ("amount:64200", True),
    ]:
        assert parse_query(query, "charges").matches(CHARGE) is expected, query


@pytest.mark.parametrize(("query", "message"), [
    ("colour:'red'", "Field `colour` is an unsupported search field for resource `customers`"),
    ("email:'a' AND name:'b' OR phone:'c'", "cannot combine AND and OR"),
    ("email~'ab'", "at least 3 characters"),
    ("created~'170'", "does not support the `~` operator"),
    ("email>'a'", "does not support the `>` operator"),
    ("created>'soon'", "takes a number"),
    ("email:", "unable to parse your search query"),
    ("email:'a' AND", "unable to parse your search query"),
    ("AND email:'a'", "unable to parse your search query"),
    ("email 'a'", "unable to parse your search query"),
    ("metadata['k']>'1'", "does not support the `>` operator"),
    (" AND ".join(f"name~'abc{i}'" for i in range(11)), "the limit is 10"),
])
def test_queries_stripe_refuses_get_a_400_naming_the_problem(query: str, message: str) -> None:
    with pytest.raises(InvalidRequestError) as refused:
        parse_query(query, "customers")
    assert message in refused.value.message
    assert refused.value.param == "query" and refused.value.status == 400


def test_an_empty_query_is_a_missing_parameter() -> None:
    with pytest.raises(InvalidRequestError) as refused:
        parse_query("   ", "customers")
    assert refused.value.code == "parameter_missing"


def test_quotes_inside_values_are_escaped() -> None:
    odd = {**GRACE, "name": "O'Brien \"Bob\""}
    assert parse_query(r"name:'O\'Brien \"Bob\"'", "customers").matches(odd)
    assert parse_query('name~"\\"Bob\\""', "customers").matches(odd)
