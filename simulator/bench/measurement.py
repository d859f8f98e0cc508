"""One benchmark figure: a closed-loop Locust load of one user class against one server
(``simulator.bench.locust_run``), summarised as a row, with the server's CPU time per
request (which holds up when other work shares the machine's cores), and the rows set
side by side as ratios against a baseline."""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from simulator.bench.locust_run import LocustOptions, first_failures, read_stats, run_locust
from simulator.common.ids import IdGenerator

PLAN_VARIABLE = "STRIPE_SIM_BENCH_PLAN"
Log = Callable[[str], None]


@dataclass
class Measurement:
    """One workload on one target. ``rps`` counts successful answers per second of the
    measured window; the latency percentiles cover every answered request."""

    target: str
    workload: str
    phase: str
    concurrency: int
    processes: int
    seconds: float
    requests: int
    errors: int
    rps: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    statuses: dict[str, int]
    first_error: str | None
    # Server CPU time per answered request: robust to other load on a shared machine.
    server_cpu_ms: float | None = None
    load: str | None = None  # the machine's load averages when the row was measured


@dataclass(frozen=True)
class LocustLoad:
    """What to run: ``user_class`` of ``locustfile`` with ``users`` users against
    ``host`` for ``seconds``, the plan handed over as a JSON file."""

    locustfile: Path
    user_class: str
    host: str
    users: int
    seconds: float
    plan: Mapping[str, Any]
    workdir: Path
    processes: int = 1


def measure_load(load: LocustLoad, *, target: str, workload: str, phase: str,
                 server_pid: int | None, log: Log) -> Measurement:
    """Run the load (Locust's progress line shows on stderr meanwhile) and summarise it."""
    log(f"{target}: {workload} ({phase}), {load.users} users for {load.seconds:g}s"
        f"  [load average {machine_load()}]")
    prefix = str(load.workdir / f"locust-{IdGenerator().token(6)}")
    plan_file = Path(f"{prefix}-plan.json")
    plan_file.write_text(json.dumps(dict(load.plan)))
    options = LocustOptions(users=load.users, spawn_rate=load.users,
                            run_time=f"{math.ceil(load.seconds) + 1}s", host=load.host,
                            csv_prefix=prefix, json_file=prefix, locustfile=load.locustfile,
                            user_classes=(load.user_class,), processes=load.processes)
    before = process_tree_cpu_seconds(server_pid)
    run_locust(options, {PLAN_VARIABLE: f"@{plan_file}"},
               stdout_path=load.workdir / "locust-summary.txt")
    after = process_tree_cpu_seconds(server_pid)
    row = read_stats(prefix, {}).total
    failures = first_failures(prefix, limit=1)
    cpu_ms = None
    if before is not None and after is not None and row.requests:
        cpu_ms = round((after - before) * 1000 / row.requests, 3)
    measurement = Measurement(
        target=target, workload=workload, phase=phase, concurrency=load.users,
        processes=load.processes, seconds=load.seconds, requests=row.requests,
        errors=row.failures,
        rps=round(row.rps * (row.requests - row.failures) / max(1, row.requests), 1),
        p50_ms=row.p50, p95_ms=row.p95, p99_ms=row.p99, max_ms=row.max,
        statuses={"failed": row.failures} if row.failures else {},
        first_error=failures[0] if failures else None, server_cpu_ms=cpu_ms,
        load=machine_load())
    log(f"  {measurement.rps:,.1f} req/s, p50 {row.p50:g} ms, p95 {row.p95:g} ms,"
        f" p99 {row.p99:g} ms, {row.failures} errors, server CPU {cpu_ms} ms/request")
    return measurement


def machine_load() -> str:
    """The 1, 5 and 15 minute load averages (as ``uptime`` shows them)."""
    try:
        return " ".join(f"{value:.2f}" for value in os.getloadavg())
    except OSError:
        return "unknown"


def process_tree_cpu_seconds(root_pid: int | None) -> float | None:
    """User + system CPU seconds of a process and all its descendants (Linux ``/proc``);
    None when unknown."""
    if root_pid is None:
        return None
    try:
        ticks = os.sysconf("SC_CLK_TCK")
        entries = [e for e in os.listdir("/proc") if e.isdigit()]
    except (OSError, ValueError):
        return None
    parents: dict[int, int] = {}
    cpu: dict[int, int] = {}
    for entry in entries:
        try:
            with open(f"/proc/{entry}/stat") as stat:
                text = stat.read()
        except OSError:  # the process ended meanwhile
            continue
        fields = text[text.rfind(")") + 2:].split()
        parents[int(entry)] = int(fields[1])
        cpu[int(entry)] = int(fields[11]) + int(fields[12])  # utime + stime, in ticks
    if root_pid not in cpu:
        return None
    tree, frontier = {root_pid}, [root_pid]
    while frontier:
        parent = frontier.pop()
        children = [pid for pid, ppid in parents.items() if ppid == parent and pid not in tree]
        tree.update(children)
        frontier += children
    return sum(cpu[pid] for pid in tree) / ticks


def percentile(sorted_values: Sequence[float], fraction: float) -> float:
    if not sorted_values:
        return 0.0
    index = min(len(sorted_values) - 1, max(0, round(fraction * len(sorted_values)) - 1))
    return sorted_values[index]


def ratios(rows: Sequence[Measurement], baseline: str) -> dict[tuple[str, str], float]:
    """Each target's requests/s over the baseline target's, per (workload, phase); with
    several rounds, over the sums of every round (interleaved rounds share the noise)."""
    sums: dict[tuple[str, str, str], float] = {}
    for row in rows:
        key = (row.target, row.workload, row.phase)
        sums[key] = sums.get(key, 0.0) + row.rps
    result: dict[tuple[str, str], float] = {}
    for (target, workload, phase), rps in sums.items():
        base = sums.get((baseline, workload, phase))
        if target != baseline and base:
            result[(target, f"{workload} ({phase})")] = round(rps / base, 3)
    return result


def format_ratios(rows: Sequence[Measurement], baseline: str) -> str:
    found = ratios(rows, baseline)
    if not found:
        return ""
    lines = [f"requests/s relative to {baseline}:"]
    lines += [f"  {target:<28} {workload:<30} {value:>7.3f}"
              for (target, workload), value in sorted(found.items())]
    return "\n".join(lines)


def format_table(rows: Sequence[Measurement]) -> str:
    header = (f"{'target':<28} {'workload':<18} {'phase':<12} {'rps':>8} {'p50 ms':>8}"
              f" {'p95 ms':>8} {'p99 ms':>8} {'max ms':>8} {'errors':>7} {'srv cpu ms':>10}")
    lines = [header, "-" * len(header)]
    for row in rows:
        cpu = f"{row.server_cpu_ms:.2f}" if row.server_cpu_ms is not None else "-"
        lines.append(
            f"{row.target[:28]:<28} {row.workload:<18} {row.phase:<12} {row.rps:>8.1f}"
            f" {row.p50_ms:>8.2f} {row.p95_ms:>8.2f} {row.p99_ms:>8.2f} {row.max_ms:>8.2f}"
            f" {row.errors:>7} {cpu:>10}  load {row.load or '-'}"
        )
        if row.first_error:
            lines.append(f"    first error: {row.first_error[:160]}")
    return "\n".join(lines)


def as_json(rows: Sequence[Measurement], extra: dict[str, Any] | None = None) -> str:
    return json.dumps({"results": [asdict(row) for row in rows], **(extra or {})}, indent=2)
