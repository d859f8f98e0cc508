"""How benchmark rows are set side by side: ratios against a baseline, summed over
interleaved rounds, and the table that prints them."""

from __future__ import annotations

from simulator.bench.measurement import Measurement, format_ratios, format_table, ratios


def _row(target: str, rps: float, workload: str = "create-confirm-pi") -> Measurement:
    return Measurement(target=target, workload=workload, phase="baseline", concurrency=8,
                       processes=1, seconds=10, requests=int(rps * 10), errors=0, rps=rps,
                       p50_ms=5, p95_ms=9, p99_ms=12, max_ms=20, statuses={},
                       first_error=None, server_cpu_ms=1.2, load="1.00 0.90 0.80")


def test_each_target_is_a_ratio_of_the_baseline_summed_over_rounds() -> None:
    rows = [_row("sandbox", 500), _row("mock", 2000), _row("sandbox", 700), _row("mock", 1600)]

    assert ratios(rows, "mock") == {("sandbox", "create-confirm-pi (baseline)"): 0.333}


def test_workloads_the_baseline_did_not_run_have_no_ratio() -> None:
    rows = [_row("sandbox", 500, "retrieve"), _row("mock", 2000)]

    assert ratios(rows, "mock") == {}
    assert format_ratios(rows, "mock") == ""


def test_an_unknown_or_idle_baseline_gives_no_ratio() -> None:
    rows = [_row("sandbox", 500), _row("mock", 0.0)]

    assert ratios(rows, "mock") == {}
    assert ratios(rows, "stripe-mock") == {}


def test_the_table_shows_each_row_with_the_machine_load() -> None:
    table = format_table([_row("sandbox", 512.5)])

    assert "sandbox" in table and "512.5" in table and "load 1.00 0.90 0.80" in table
    assert format_ratios([_row("sandbox", 500), _row("mock", 2000)], "mock").splitlines() == [
        "requests/s relative to mock:",
        f"  {'sandbox':<28} {'create-confirm-pi (baseline)':<30} {0.25:>7.3f}"]
