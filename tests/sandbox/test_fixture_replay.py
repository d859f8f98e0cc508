"""How :mod:`simulator.sandbox.fixture_replay` reads the Stripe CLI's fixtures: references
and form encoding as the CLI's ``pkg/parsers`` does them (no fixture files needed)."""

from __future__ import annotations

import pytest

from simulator.sandbox import fixture_replay as replay


def test_references_resolve_as_the_cli_does() -> None:
    responses = {"disputes_list": {"data": [{"id": "du_1"}]}, "customer": {"id": "cus_1"}}
    assert replay.resolve("${disputes_list:data.0.id}", responses) == "du_1"
    assert replay.resolve("${customer:missing|fallback}", responses) == "fallback"
    assert replay.resolve("${.env:NO_SUCH_VARIABLE_HERE}", responses, env={}) == (
        "${.env:NO_SUCH_VARIABLE_HERE}")
    assert replay.resolve("${.env:HOOK}/stripe", responses, env={"HOOK": "https://x"}) == (
        "https://x/stripe")
    assert replay.resolve_path("/v1/customers/${customer:id}/sources", responses) == (
        "/v1/customers/cus_1/sources")
    with pytest.raises(replay.FixtureReferenceError):
        replay.resolve("${nobody:id}", responses)


def test_parameters_are_encoded_as_the_cli_does() -> None:
    pairs = replay.form_pairs({
        "amount": 100.0, "confirm": True, "types": ["card", 3],
        "line_items": [{"price": "${p:id}", "quantity": 2, "data": {"currency": "usd"}}],
        "metadata": {"a": "b"}, "raw[]": "x",
    }, {"p": {"id": "price_1"}})
    assert sorted(pairs) == sorted([
        ("amount", "100"), ("confirm", "true"), ("types[]", "card"),
        ("line_items[0][price]", "price_1"), ("line_items[0][quantity]", "2"),
        ("line_items[0][data][0][currency]", "usd"), ("metadata[a]", "b"), ("raw[]", "x"),
    ])


@pytest.mark.parametrize(("name", "event_type"), [
    ("issuing_card.created.eu", "issuing_card.created"),
    ("customer.source.created", "customer.source.created"),
])
def test_a_fixture_is_named_after_its_event(name: str, event_type: str) -> None:
    assert replay.Fixture(name=name, requests=()).event_type == event_type
