"""Stripe's form encoding and typed parameter reads (simulator/sandbox/params.py)."""

from __future__ import annotations

from urllib.parse import parse_qsl

import pytest

from simulator.sandbox.errors import InvalidRequestError
from simulator.sandbox.params import (
    METADATA_KEY_MAX,
    METADATA_MAX_KEYS,
    METADATA_VALUE_MAX,
    Params,
    apply_metadata,
    parse_form,
)


def form(query: str) -> Params:
    return Params(parse_form(parse_qsl(query, keep_blank_values=True)))


# -- bracket parsing ----------------------------------------------------------------------
def test_nested_hashes_and_indexed_arrays() -> None:
    params = Params(parse_form([
        ("line_items[0][price_data][currency]", "usd"),
        ("line_items[0][price_data][unit_amount]", "642"),
        ("line_items[0][quantity]", "1"),
        ("line_items[1][price]", "price_123"),
        ("customer", "cus_1"),
    ]))
    first, second = params.hashes("line_items")
    price_data = first.hash("price_data")
    assert price_data is not None
    assert price_data.currency() == "usd"
    assert price_data.integer("unit_amount") == 642
    assert first.integer("quantity") == 1
    assert second.string("price") == "price_123"
    assert params.string("customer") == "cus_1"
    params.finish()


def test_deeply_nested_index() -> None:
    (item,) = Params(parse_form([("a[0][b][c]", "x")])).hashes("a")
    inner = item.hash("b")
    assert inner is not None and inner.string("c") == "x"


def test_indexes_are_ordered_numerically() -> None:
    pairs = [(f"expand[{i}]", f"p{i}") for i in (10, 2, 0, 1)]
    assert Params(parse_form(pairs)).strings("expand") == ["p0", "p1", "p2", "p10"]


@pytest.mark.parametrize("key", ["expand[]", "expand[0]"])
def test_expand_both_spellings_make_a_list(key: str) -> None:
    params = Params(parse_form([(key, "customer"), (key.replace("0", "1"), "latest_charge")]))
    assert params.strings("expand") == ["customer", "latest_charge"]


def test_a_scalar_then_a_hash_of_the_same_name_is_refused() -> None:
    with pytest.raises(InvalidRequestError) as raised:
        parse_form([("metadata", "x"), ("metadata[a]", "1")])
    assert raised.value.message == "Invalid hash: metadata[a]"
    assert raised.value.param == "metadata"


def test_a_scalar_inside_a_hash_then_deeper_is_refused() -> None:
    with pytest.raises(InvalidRequestError) as raised:
        parse_form([("card[number]", "4242"), ("card[number][x]", "1")])
    assert raised.value.param == "card"


def test_mixed_array_spellings_do_not_crash() -> None:
    params = Params(parse_form([("expand[0]", "a"), ("expand[]", "b")]))
    with pytest.raises(InvalidRequestError) as raised:
        params.strings("expand")
    assert raised.value.param == "expand"


def test_metadata_keys_may_be_digits() -> None:
    params = Params(parse_form([("metadata[1]", "first"), ("metadata[2]", "second")]))
    assert params.metadata() == {"1": "first", "2": "second"}


# -- typed reads --------------------------------------------------------------------------
def test_integer_errors() -> None:
    with pytest.raises(InvalidRequestError) as raised:
        form("amount=12.5").integer("amount")
    assert (raised.value.code, raised.value.param, raised.value.message) == (
        "parameter_invalid_integer", "amount", "Invalid integer: 12.5"
    )
    with pytest.raises(InvalidRequestError) as raised:
        form("amount=-1").integer("amount", minimum=0)
    assert raised.value.message == "This value must be greater than or equal to 0."
    with pytest.raises(InvalidRequestError) as raised:
        form("limit=101").integer("limit", maximum=100)
    assert raised.value.message == "This value must be less than or equal to 100."
    assert form("amount=642").required_integer("amount") == 642


def test_required_parameter_missing() -> None:
    with pytest.raises(InvalidRequestError) as raised:
        form("").required_integer("amount")
    assert (raised.value.code, raised.value.param, raised.value.message) == (
        "parameter_missing", "amount", "Missing required param: amount."
    )


def test_nested_names_are_bracketed() -> None:
    params = form("price_data[unit_amount]=abc")
    price_data = params.hash("price_data")
    assert price_data is not None
    with pytest.raises(InvalidRequestError) as raised:
        price_data.integer("unit_amount")
    assert raised.value.param == "price_data[unit_amount]"
    with pytest.raises(InvalidRequestError) as raised:
        price_data.required_string("currency")
    assert raised.value.param == "price_data[currency]"
    assert raised.value.message == "Missing required param: price_data[currency]."


def test_boolean() -> None:
    assert form("confirm=true").boolean("confirm") is True
    assert form("confirm=False").boolean("confirm") is False
    with pytest.raises(InvalidRequestError) as raised:
        form("confirm=yes").boolean("confirm")
    assert (raised.value.param, raised.value.message) == ("confirm", "Invalid boolean: yes")


def test_enum_lists_the_choices() -> None:
    with pytest.raises(InvalidRequestError) as raised:
        form("mode=rent").enum("mode", ["payment", "setup", "subscription"])
    assert raised.value.param == "mode"
    assert raised.value.message == "Invalid mode: must be one of payment, setup, or subscription"
    with pytest.raises(InvalidRequestError) as raised:
        form("capture_method=later").enum("capture_method", ["automatic", "manual"])
    assert raised.value.message == "Invalid capture_method: must be one of automatic or manual"


def test_currency_is_lowercased_and_checked() -> None:
    assert form("currency=USD").currency() == "usd"
    with pytest.raises(InvalidRequestError) as raised:
        form("currency=abc").currency()
    assert raised.value.param == "currency"
    assert raised.value.message.startswith("Invalid currency: abc. Stripe currently supports")


def test_string_too_long() -> None:
    with pytest.raises(InvalidRequestError) as raised:
        form("name=" + "x" * 301).string("name", max_length=300)
    assert raised.value.param == "name"
    assert raised.value.code == "string_too_long"


def test_a_hash_where_a_string_is_expected() -> None:
    with pytest.raises(InvalidRequestError) as raised:
        form("email[x]=1").string("email")
    assert raised.value.param == "email"
    assert raised.value.message.startswith("Invalid string")


def test_a_string_where_a_hash_is_expected() -> None:
    with pytest.raises(InvalidRequestError) as raised:
        form("shipping=abc").hash("shipping")
    assert (raised.value.param, raised.value.message) == ("shipping", "Invalid hash: abc")


def test_hashes_checks_each_element() -> None:
    with pytest.raises(InvalidRequestError) as raised:
        form("line_items[0]=x").hashes("line_items")
    assert raised.value.param == "line_items[0]"


# -- metadata -----------------------------------------------------------------------------
def test_metadata_reads_changes() -> None:
    assert form("").metadata() is None
    assert form("metadata=").metadata() == {}
    assert form("metadata[a]=1&metadata[b]=").metadata() == {"a": "1", "b": ""}


def test_metadata_key_and_value_limits() -> None:
    long_key = "k" * (METADATA_KEY_MAX + 1)
    with pytest.raises(InvalidRequestError) as raised:
        form(f"metadata[{long_key}]=v").metadata()
    assert raised.value.param == f"metadata[{long_key}]"
    assert raised.value.message.startswith("Metadata keys can have up to 40 characters")
    assert form("metadata[" + "k" * METADATA_KEY_MAX + "]=v").metadata() is not None

    with pytest.raises(InvalidRequestError) as raised:
        form("metadata[k]=" + "v" * (METADATA_VALUE_MAX + 1)).metadata()
    assert raised.value.param == "metadata[k]"
    assert raised.value.message.startswith("Metadata values can have up to 500 characters")
    assert form("metadata[k]=" + "v" * METADATA_VALUE_MAX).metadata() is not None


def test_apply_metadata_merges_removes_and_clears() -> None:
    current = {"a": "1", "b": "2"}
    assert apply_metadata(current, None) == current
    assert apply_metadata(current, {"a": "", "c": "3"}) == {"b": "2", "c": "3"}
    assert apply_metadata(current, {"missing": ""}) == current
    assert apply_metadata(current, {}) == {}


def test_apply_metadata_counts_keys_after_merging() -> None:
    full = {f"k{i}": "v" for i in range(METADATA_MAX_KEYS)}
    assert len(apply_metadata({}, full)) == METADATA_MAX_KEYS
    with pytest.raises(InvalidRequestError) as raised:
        apply_metadata(full, {"one_more": "v"})
    assert raised.value.param == "metadata"
    assert raised.value.message.startswith("Metadata can have up to 50 keys, but you've set 51")
    assert len(apply_metadata(full, {"k0": "", "one_more": "v"})) == METADATA_MAX_KEYS


# -- finish -------------------------------------------------------------------------------
def test_finish_refuses_unread_parameters_with_a_suggestion() -> None:
    params = form("emial=a@example.com")
    params.string("email")
    with pytest.raises(InvalidRequestError) as raised:
        params.finish()
    assert (raised.value.code, raised.value.param, raised.value.message) == (
        "parameter_unknown", "emial", "Received unknown parameter: emial. Did you mean email?"
    )


def test_finish_names_a_nested_unknown_in_brackets() -> None:
    params = form("card[number]=4242424242424242&card[foo]=1")
    card = params.hash("card")
    assert card is not None
    card.string("number")
    with pytest.raises(InvalidRequestError) as raised:
        params.finish()
    assert raised.value.param == "card[foo]"
    assert raised.value.message == "Received unknown parameter: card[foo]"


def test_finish_suggests_within_the_nested_hash() -> None:
    params = form("card[numbr]=4242424242424242")
    card = params.hash("card")
    assert card is not None
    card.string("number")
    with pytest.raises(InvalidRequestError) as raised:
        params.finish()
    assert raised.value.message == (
        "Received unknown parameter: card[numbr]. Did you mean number?"
    )


def test_finish_names_an_unread_hash_by_its_first_key() -> None:
    params = form("shipping[name]=Ada")
    with pytest.raises(InvalidRequestError) as raised:
        params.finish()
    assert raised.value.param == "shipping[name]"


def test_finish_accepts_everything_read() -> None:
    params = form("amount=642&currency=usd&expand[]=customer")
    params.integer("amount")
    params.currency()
    params.strings("expand")
    params.finish()
