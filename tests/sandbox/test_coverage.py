"""COVERAGE.md is generated; it must match what the current routes produce."""

from __future__ import annotations

from pathlib import Path

from flask import Flask

from simulator.sandbox.coverage import (
    Operation,
    coverage_markdown,
    default_fixtures_folder,
    resource_group,
    resource_roots,
    routes,
    sandbox_operations,
)

REPO = Path(__file__).resolve().parents[2]


FIXTURES_SECTION = "## Stripe CLI trigger fixtures"


def test_committed_coverage_is_current() -> None:
    """Whole, where the Stripe CLI's fixtures can be replayed; else every part but the
    fixtures' section (a clone without them cannot say whether they still pass)."""
    committed = (REPO / "COVERAGE.md").read_text(encoding="utf-8")
    generated = coverage_markdown()
    if default_fixtures_folder() is None:
        committed = committed.split(FIXTURES_SECTION)[0]
        generated = generated.split(FIXTURES_SECTION)[0]
    assert committed == generated, (
        "COVERAGE.md is stale: run `stripe-sim coverage` and commit the result"
    )


def test_generation_is_deterministic() -> None:
    assert coverage_markdown() == coverage_markdown()


def test_resource_groups() -> None:
    paths = [
        "/v1/customers",
        "/v1/customers/search",
        "/v1/customers/{customer}/sources/{id}",
        "/v1/checkout/sessions/{session}/line_items",
        "/v1/test_helpers/terminal/readers/{reader}/present_payment_method",
    ]
    roots = resource_roots(paths)
    assert [resource_group(p, roots) for p in paths] == [
        "customers",
        "customers",
        "customers",
        "checkout/sessions",
        "test_helpers/terminal/readers",
    ]


def test_a_literal_segment_is_not_mistaken_for_an_id(sandbox_app: Flask) -> None:
    adapter = sandbox_app.url_map.bind("localhost")
    assert routes(adapter, Operation("/v1/customers/{customer}", "GET"))
    assert routes(adapter, Operation("/v1/customers/search", "GET"))  # its own route
    assert not routes(adapter, Operation("/v1/customers/lookup", "GET"))  # not {customer}
    assert not routes(adapter, Operation("/v1/customers/{customer}", "PUT"))


def test_sandbox_operations_use_spec_placeholders(sandbox_app: Flask) -> None:
    operations = sandbox_operations(sandbox_app.url_map.iter_rules())
    assert Operation("/v1/test_helpers/test_clocks/{clock_id}/advance", "POST") in operations
    assert all(op.path.startswith("/v1/") for op in operations)
