"""``stripe-sim bench sandbox`` with tiny numbers, through Locust: every target and
workload gets a row with answered requests, a bare endpoint gives the ratio, and a
server that answers errors is reported as failing. No timing is asserted."""

from __future__ import annotations

from pathlib import Path

import pytest

from simulator.bench.measurement import format_ratios, ratios
from simulator.bench.sandbox import BARE, BenchPlan, SandboxSpec, Target, run_plan
from simulator.bench.servers import free_port

pytestmark = pytest.mark.slow


def _plan(tmp_path: Path, **overrides: object) -> BenchPlan:
    plan = BenchPlan(base_urls=[], workloads=["create-confirm-pi", "retrieve"], concurrency=2,
                     duration=1.0, warmup=0.0, start=["1x2"], bare="1x2", retrieve_pool=3,
                     workdir=str(tmp_path), log=lambda line: None)
    for name, value in overrides.items():
        setattr(plan, name, value)
    return plan


def test_a_started_sandbox_and_the_bare_endpoint_are_measured_side_by_side(
        tmp_path: Path) -> None:
    rows = run_plan(_plan(tmp_path))

    assert [(row.target, row.workload) for row in rows] == [
        ("sandbox 1w x 2t", "create-confirm-pi"),
        (BARE, "create-confirm-pi"),
        ("sandbox 1w x 2t", "retrieve"),  # the bare endpoint has nothing to retrieve
    ]
    assert all(row.requests > 0 and row.rps > 0 and row.errors == 0 for row in rows), rows
    assert all(row.server_cpu_ms is not None and row.load for row in rows)
    assert set(ratios(rows, BARE)) == {("sandbox 1w x 2t", "create-confirm-pi (baseline)")}
    assert "requests/s relative to bare flask" in format_ratios(rows, BARE)
    assert list(tmp_path.iterdir()) == []  # the servers' files are gone


def test_rounds_interleave_the_targets(tmp_path: Path) -> None:
    rows = run_plan(_plan(tmp_path, workloads=["create-customer"], rounds=2))

    assert [row.target for row in rows] == ["sandbox 1w x 2t", BARE] * 2


def test_a_server_that_does_not_answer_is_all_errors(tmp_path: Path) -> None:
    plan = _plan(tmp_path, base_urls=[f"gone=http://127.0.0.1:{free_port()}"], start=[],
                 bare=None, workloads=["create-customer"])

    [row] = run_plan(plan)

    assert (row.target, row.rps) == ("gone", 0.0)
    assert row.errors == row.requests > 0
    assert row.first_error is not None and "create-customer" in row.first_error


def test_a_plan_out_of_bounds_is_refused(tmp_path: Path) -> None:
    plan = _plan(tmp_path, workloads=["create-everything"], rounds=0)

    assert plan.problems() == [
        "unknown workloads ['create-everything']; choose from ['create-checkout',"
        " 'create-confirm-pi', 'create-customer', 'retrieve']",
        "--rounds must be 1 to 20",
    ]
    with pytest.raises(ValueError, match="unknown workloads"):
        run_plan(plan)


def test_targets_must_be_on_loopback() -> None:
    assert Target.parse("mock=http://127.0.0.1:12111").name == "mock"
    with pytest.raises(ValueError, match=r"only target http://127\.0\.0\.1"):
        Target.parse("http://api.stripe.com")
    with pytest.raises(ValueError, match="WORKERSxTHREADS"):
        SandboxSpec.parse("twoxfour")
