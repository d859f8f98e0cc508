"""COVERAGE.md: which of Stripe's /v1 operations the sandbox answers, and which of the
Stripe CLI's trigger fixtures pass against it.

Every path and method the pinned ``stripe`` SDK calls (:mod:`simulator.sandbox.sdk_reference`)
is checked against the sandbox's Flask routing table: an operation counts as implemented
when a rule with the same shape (static segments equal, ``{param}`` against ``<param>``)
routes that method. Routes the SDK does not call are reported in a section of their own.
Then the CLI's fixtures, read from their folder at generation time, are replayed against a
fresh in-process sandbox (:mod:`simulator.sandbox.fixture_replay`). The output is sorted
and carries no timestamps or ids, so regenerating an unchanged tree yields no diff.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from werkzeug.exceptions import HTTPException
from werkzeug.routing import MapAdapter, Rule

from simulator.sandbox import fixture_replay, sdk_reference

# Where the Stripe CLI's fixtures are read from: the environment, else next to the project.
FIXTURES_ENV = "STRIPE_CLI_FIXTURES"
FIXTURES_RELATIVE = Path("shared") / "reference" / "stripe-cli-fixtures"
METHODS = ("GET", "POST", "DELETE")
_SPEC_PARAM = re.compile(r"\{[^}]+\}")
_RULE_PARAM = re.compile(r"<[^>]+>")


@dataclass(frozen=True, order=True)
class Operation:
    path: str
    method: str

    @property
    def shape(self) -> tuple[str, str]:
        return self.method, _SPEC_PARAM.sub("{}", self.path)


@dataclass(frozen=True)
class FixtureRow:
    name: str
    passed: bool
    brief: str


@dataclass(frozen=True)
class Report:
    source: str
    groups: dict[str, list[tuple[Operation, bool]]]
    beyond: list[Operation]
    fixtures: list[FixtureRow] | None = None
    fixtures_note: str = ""

    @property
    def implemented(self) -> int:
        return sum(done for rows in self.groups.values() for _, done in rows)

    @property
    def total(self) -> int:
        return sum(len(rows) for rows in self.groups.values())


# -- the SDK's operations ------------------------------------------------------------------
def sdk_operations() -> list[Operation]:
    """Every /v1 operation the pinned SDK's service classes call."""
    return sorted(Operation(op.path, op.method) for op in sdk_reference.operations()
                  if op.method in METHODS)


def default_fixtures_folder() -> Path | None:
    """The CLI's fixtures: ``$STRIPE_CLI_FIXTURES``, else ``shared/reference/...`` beside
    an ancestor of the package or the cwd; None when they are nowhere."""
    if os.environ.get(FIXTURES_ENV):
        return Path(os.environ[FIXTURES_ENV])
    here = Path(__file__).resolve()
    for folder in (*here.parents, Path.cwd(), *Path.cwd().parents):
        if (folder / FIXTURES_RELATIVE).is_dir():
            return folder / FIXTURES_RELATIVE
    return None


def resource_group(path: str, roots: set[str]) -> str:
    """The resource a path belongs to: the shortest run of leading static segments that
    is a resource of its own (``/v1/customers/search`` -> ``customers``,
    ``/v1/checkout/sessions/{session}`` -> ``checkout/sessions``)."""
    statics: list[str] = []
    for segment in path.removeprefix("/v1/").split("/"):
        if segment.startswith(("{", "<")):
            break
        statics.append(segment)
    for end in range(1, len(statics) + 1):
        if "/".join(statics[:end]) in roots:
            return "/".join(statics[:end])
    return "/".join(statics)


def resource_roots(paths: Iterable[str]) -> set[str]:
    """Static prefixes that are addressed directly or followed by an id."""
    roots: set[str] = set()
    for path in paths:
        segments = path.removeprefix("/v1/").split("/")
        for end in range(1, len(segments) + 1):
            if end == len(segments) or segments[end].startswith(("{", "<")):
                roots.add("/".join(segments[:end]))
                break
    return roots


# -- the sandbox's routes -----------------------------------------------------------------
def sample_path(path: str) -> str:
    return _SPEC_PARAM.sub(lambda m: f"sample_{m.group(0)[1:-1]}", path)


def routes(adapter: MapAdapter, operation: Operation) -> bool:
    """Whether the sandbox routes this operation to a rule of the same shape (so that
    ``/v1/customers/search`` is not taken for a customer whose id is ``search``)."""
    try:
        rule, _ = adapter.match(sample_path(operation.path), method=operation.method,
                                return_rule=True)
    except HTTPException:
        return False
    return _rule_shape(rule) == operation.shape[1]


def _rule_shape(rule: Rule) -> str:
    return _RULE_PARAM.sub("{}", rule.rule)


def sandbox_operations(rules: Iterable[Rule]) -> list[Operation]:
    operations = {
        Operation(_RULE_PARAM.sub(lambda m: "{" + m.group(0)[1:-1].split(":")[-1] + "}",
                                  rule.rule), method)
        for rule in rules
        if rule.rule.startswith("/v1/")
        for method in rule.methods or ()
        if method in METHODS
    }
    return sorted(operations)


def _sandbox_rules() -> tuple[MapAdapter, list[Rule]]:
    from simulator.sandbox.app import create_app
    from simulator.sandbox.runtime import SandboxConfig

    with tempfile.TemporaryDirectory() as folder:
        app = create_app(SandboxConfig(db_path=str(Path(folder) / "coverage.sqlite3")))
        app.extensions["sandbox"].store.close()
    return app.url_map.bind("localhost"), list(app.url_map.iter_rules())


# -- the report ---------------------------------------------------------------------------
def fixture_rows(folder: Path) -> list[FixtureRow]:
    """Replay every CLI fixture against one fresh in-process sandbox, in file order."""
    paths = fixture_replay.fixture_files(folder)
    with tempfile.TemporaryDirectory() as scratch:
        transport = fixture_replay.in_process_transport(str(Path(scratch) / "replay.sqlite3"))
        results = fixture_replay.replay_all(paths, transport)
    return [FixtureRow(r.fixture, r.passed, r.brief) for r in results]


def build_report(fixtures_folder: Path | None = None) -> Report:
    adapter, rules = _sandbox_rules()
    operations = sdk_operations()
    sdk_shapes = {op.shape for op in operations}
    beyond = [op for op in sandbox_operations(rules) if op.shape not in sdk_shapes]
    roots = resource_roots(op.path for op in [*operations, *beyond])
    groups: dict[str, list[tuple[Operation, bool]]] = defaultdict(list)
    for op in operations:
        groups[resource_group(op.path, roots)].append((op, routes(adapter, op)))
    source = f"stripe-python {sdk_reference.version()} (API {sdk_reference.api_version()})"
    if fixtures_folder is None or not fixtures_folder.is_dir():
        note = ("skipped: the Stripe CLI's fixtures were not found (set"
                f" {FIXTURES_ENV} to their folder)")
        return Report(source, dict(sorted(groups.items())), beyond, None, note)
    return Report(source, dict(sorted(groups.items())), beyond, fixture_rows(fixtures_folder))


def render_markdown(report: Report) -> str:
    lines = [
        "# Stripe API coverage",
        "",
        f"Generated by `stripe-sim coverage` from the operations the pinned SDK calls"
        f" ({report.source}), the sandbox's routing table and the Stripe CLI's trigger"
        " fixtures. Do not edit by hand.",
        "",
        f"**{report.implemented} / {report.total}** operations of the SDK are implemented"
        f" ({_percent(report.implemented, report.total)}), plus {len(report.beyond)} beyond it.",
        "",
        *_summary_table(report),
        "",
        "## Operations by resource",
        "",
    ]
    for group, rows in report.groups.items():
        lines += [f"### {group}", ""]
        lines += [f"- [{'x' if done else ' '}] `{op.method} {op.path}`" for op, done in rows]
        lines.append("")
    lines += ["## Implemented beyond the SDK", ""]
    lines += [f"- [x] `{op.method} {op.path}`" for op in report.beyond] or ["None."]
    lines += ["", *_fixture_lines(report)]
    return "\n".join(lines) + "\n"


def _fixture_lines(report: Report) -> list[str]:
    lines = ["## Stripe CLI trigger fixtures", ""]
    if report.fixtures is None:
        return [*lines, report.fixtures_note.capitalize() + "."]
    passed = sum(row.passed for row in report.fixtures)
    lines += [f"**{passed} / {len(report.fixtures)}** fixtures pass, replayed as"
              " `stripe trigger` sends them (no `Stripe-Version` header) against a fresh"
              " sandbox, each producing the event it is named after.", ""]
    for row in report.fixtures:
        lines.append(f"- [{'x' if row.passed else ' '}] `{row.name}`"
                     + ("" if row.passed else f": {row.brief}"))
    return lines


def _summary_table(report: Report) -> list[str]:
    lines = ["| Resource | Implemented | Total |", "|---|---:|---:|"]
    for group, rows in report.groups.items():
        done = sum(implemented for _, implemented in rows)
        lines.append(f"| {group} | {done} | {len(rows)} |")
    return lines


def _percent(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "n/a"


def coverage_markdown(fixtures_folder: str | None = None) -> str:
    folder = Path(fixtures_folder) if fixtures_folder else default_fixtures_folder()
    return render_markdown(build_report(folder))


def write_coverage(fixtures_folder: str | None, output: str) -> str:
    """Write COVERAGE.md (``output``) and return the path written; ``fixtures_folder``
    is the Stripe CLI's fixtures (default: found as :func:`default_fixtures_folder`)."""
    target = Path(output)
    target.write_text(coverage_markdown(fixtures_folder), encoding="utf-8")
    return str(target)
