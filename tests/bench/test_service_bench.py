"""``stripe-sim bench service`` with tiny numbers: every figure is produced, no request
fails and the database is left as the loads say. No timing is asserted."""

from __future__ import annotations

from pathlib import Path

import pytest

from simulator.bench.service import ServiceBenchPlan, run_service_bench
from simulator.bench.service_report import format_report

pytestmark = pytest.mark.slow


def test_the_service_benchmark_produces_every_figure_without_errors(tmp_path: Path) -> None:
    plan = ServiceBenchPlan(concurrency=2, duration=2.0, wins=20, workers=2,
                            threads=2, paid_sessions=3, window_wins=2, workdir=str(tmp_path),
                            log=lambda line: None)

    report = run_service_bench(plan)

    phases = [(row.target.split()[0], row.workload, row.phase) for row in report.rows]
    assert phases == [
        ("service", "checkout create", "new win"),
        ("service", "checkout create", "double click"),
        ("service", "webhook", "new event"),
        ("service", "webhook", "duplicate"),
        ("service", "webhook", "mixed 50% dup"),
        ("bare", "webhook", "mixed 50% dup"),
    ]
    assert all(row.requests > 0 and row.rps > 0 for row in report.rows)
    assert [row.errors for row in report.rows] == [0] * 6, format_report(report)
    assert [check.name for check in report.checks if not check.ok] == []
    assert set(report.webhook_vs_bare) == {"new event", "duplicate", "mixed 50% dup"}
    assert [(p.status, p.expected) for p in report.window.probes] == [(201, 201), (410, 410)]
    assert len(report.window.closed_late_ms) == 2
    assert len(report.goals) == 7
    assert not report.broken
    assert list(tmp_path.iterdir()) == []  # the servers' files are gone
