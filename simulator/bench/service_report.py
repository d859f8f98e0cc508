"""The report of ``stripe-sim bench service`` (``service.py`` runs the benchmark): the
figures, the counts the run must leave in the database, the aims each figure meets or
misses, and the report as text or JSON."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

from simulator.bench.measurement import Measurement, format_table, percentile

CHECKOUT_P95_GOAL_MS = 50.0
WEBHOOK_RATIO_GOAL = 1 / 3
TICK_SECONDS = 1.0  # simulator.service.app.start_job_ticker's interval
LATENESS_GOAL_SECONDS = TICK_SECONDS


@dataclass
class WindowProbe:
    seconds_from_end: float  # the service's time when the create was sent, minus the end
    status: int
    expected: int


@dataclass
class WindowPrecision:
    probes: list[WindowProbe]
    windows: int
    closed: int  # windows whose job ran and left a canceled order
    started_late_ms: list[float]  # close_window job claimed, after the window's end
    closed_late_ms: list[float]  # close_window job done, after the window's end
    tick_seconds: float = TICK_SECONDS


@dataclass
class Check:
    """A count the run must leave in the service's database."""

    name: str
    expected: int
    actual: int
    ok: bool


@dataclass
class Goal:
    name: str
    target: str
    actual: str
    met: bool


@dataclass
class ServiceBenchReport:
    service: str
    sandbox: str
    rows: list[Measurement]
    webhook_vs_bare: dict[str, float]  # requests/s of each webhook row / the bare endpoint's
    # The bare endpoint's server CPU per request / each webhook row's: the requests/s
    # ratio a CPU-bound server reaches, whatever else the machine was running.
    webhook_vs_bare_cpu: dict[str, float]
    sandbox_cpu_ms: dict[str, float | None]  # per checkout create, by phase
    window: WindowPrecision
    checks: list[Check]
    goals: list[Goal] = field(default_factory=list)

    @property
    def broken(self) -> bool:
        """Errors or wrong counts: the figures describe a failing service."""
        return any(row.errors for row in self.rows) or not all(c.ok for c in self.checks)


# -- figures and aims -----------------------------------------------------------------------
def rps_ratios(rows: Sequence[Measurement]) -> dict[str, float]:
    """Each webhook row against the last row, the bare endpoint's."""
    bare = rows[-1].rps
    return {row.phase: round(row.rps / bare, 3) if bare else 0.0 for row in rows[:-1]}


def cpu_ratios(rows: Sequence[Measurement]) -> dict[str, float]:
    bare = rows[-1].server_cpu_ms
    return {row.phase: round(bare / row.server_cpu_ms, 3) for row in rows[:-1]
            if bare and row.server_cpu_ms}


def goals(report: ServiceBenchReport) -> list[Goal]:
    """The issue's aims, each with the figure that meets or misses it."""
    found = [Goal(f"checkout create p95 ({row.phase})", f"< {CHECKOUT_P95_GOAL_MS:g} ms",
                  f"{row.p95_ms:.1f} ms", row.p95_ms < CHECKOUT_P95_GOAL_MS)
             for row in report.rows if row.workload == "checkout create"]
    cpu = report.webhook_vs_bare_cpu
    found += [Goal(f"webhook req/s vs bare Flask ({phase})", f">= {WEBHOOK_RATIO_GOAL:.2f}",
                   f"{ratio:.2f} (by CPU per request: {cpu.get(phase, 0):.2f})",
                   ratio >= WEBHOOK_RATIO_GOAL)
              for phase, ratio in report.webhook_vs_bare.items()]
    window = report.window
    edges = ", ".join(f"{p.seconds_from_end:+.2f}s -> {p.status}" for p in window.probes)
    found.append(Goal("window: create allowed 1 s before its end, 410 1 s after",
                      "201, 410", edges, all(p.status == p.expected for p in window.probes)))
    worst = max(window.closed_late_ms, default=math.inf) / 1000
    found.append(Goal("window: close_window done after the end (max)",
                      f"<= {LATENESS_GOAL_SECONDS:g} s", f"{worst:.3f} s",
                      worst <= LATENESS_GOAL_SECONDS and window.closed == window.windows))
    return found


# -- output ---------------------------------------------------------------------------------
def format_report(report: ServiceBenchReport) -> str:
    lines = [f"{report.service} against {report.sandbox}", "", format_table(report.rows), ""]
    lines += [f"sandbox CPU per checkout create ({phase}): {ms} ms"
              for phase, ms in report.sandbox_cpu_ms.items() if ms is not None]
    lines += [f"webhook {phase}: {ratio:.2f}x the bare endpoint's requests/s,"
              f" {report.webhook_vs_bare_cpu.get(phase, 0):.2f}x by server CPU per request"
              for phase, ratio in report.webhook_vs_bare.items()]
    window = report.window
    lines += ["", f"payment window ({window.windows} windows, scheduler tick"
              f" {window.tick_seconds:g} s): {window.closed} closed"]
    for name, values in (("job claimed", window.started_late_ms),
                         ("job done", window.closed_late_ms)):
        ordered = sorted(values)
        lines.append(f"  {name} after the window's end: p50 {percentile(ordered, 0.5):.0f} ms,"
                     f" p95 {percentile(ordered, 0.95):.0f} ms,"
                     f" max {max(ordered, default=0):.0f} ms")
    lines += ["", "checks:"] + [f"  [{'ok' if c.ok else 'FAIL'}] {c.name}: {c.actual}"
                                 f" (expected {c.expected})" for c in report.checks]
    lines += ["", "goals:"] + [f"  [{'met' if g.met else 'MISSED'}] {g.name}: {g.actual}"
                                f" (goal {g.target})" for g in report.goals]
    return "\n".join(lines)


def as_json(report: ServiceBenchReport) -> str:
    return json.dumps({**asdict(report), "broken": report.broken}, indent=2)

