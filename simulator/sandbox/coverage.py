"""COVERAGE.md: which of Stripe's /v1 operations the sandbox answers.

Every path and method of Stripe's OpenAPI spec is checked against the sandbox's Flask
routing table: an operation counts as implemented when a rule with the same shape
(static segments equal, ``{param}`` against ``<param>``) routes that method. Routes the
spec does not list are reported in a section of their own. The output is sorted and
carries no timestamps, so regenerating an unchanged tree yields no diff.
"""

from __future__ import annotations

import json
import re
import tempfile
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from werkzeug.exceptions import HTTPException
from werkzeug.routing import MapAdapter, Rule

SPEC_NAME = "spec3.2022-04-12.json"
SPEC_RELATIVE = Path("fixtures") / "stripe-openapi" / SPEC_NAME
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
class Report:
    spec_name: str
    groups: dict[str, list[tuple[Operation, bool]]]
    beyond: list[Operation]

    @property
    def implemented(self) -> int:
        return sum(done for rows in self.groups.values() for _, done in rows)

    @property
    def total(self) -> int:
        return sum(len(rows) for rows in self.groups.values())


# -- the spec -----------------------------------------------------------------------------
def default_spec_path() -> Path:
    """The 2022 spec shipped under fixtures/, looked up from the package and the cwd."""
    here = Path(__file__).resolve()
    for folder in (*here.parents, Path.cwd()):
        candidate = folder / SPEC_RELATIVE
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(f"cannot find {SPEC_RELATIVE}; pass --spec")


def spec_operations(spec: dict[str, Any]) -> list[Operation]:
    operations = [
        Operation(path, method.upper())
        for path, item in spec.get("paths", {}).items()
        for method in item
        if path.startswith("/v1/") and method.upper() in METHODS
    ]
    return sorted(operations)


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
def build_report(spec: dict[str, Any], spec_name: str) -> Report:
    adapter, rules = _sandbox_rules()
    operations = spec_operations(spec)
    spec_shapes = {op.shape for op in operations}
    beyond = [op for op in sandbox_operations(rules) if op.shape not in spec_shapes]
    roots = resource_roots(op.path for op in [*operations, *beyond])
    groups: dict[str, list[tuple[Operation, bool]]] = defaultdict(list)
    for op in operations:
        groups[resource_group(op.path, roots)].append((op, routes(adapter, op)))
    return Report(spec_name, dict(sorted(groups.items())), beyond)


def render_markdown(report: Report) -> str:
    lines = [
        "# Stripe API coverage",
        "",
        f"Generated by `stripe-sim coverage` from Stripe's OpenAPI spec (`{report.spec_name}`)"
        " and the sandbox's routing table. Do not edit by hand.",
        "",
        f"**{report.implemented} / {report.total}** operations of the spec are implemented"
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
    lines += ["## Implemented beyond the 2022 spec", ""]
    lines += [f"- [x] `{op.method} {op.path}`" for op in report.beyond] or ["None."]
    return "\n".join(lines) + "\n"


def _summary_table(report: Report) -> list[str]:
    lines = ["| Resource | Implemented | Total |", "|---|---:|---:|"]
    for group, rows in report.groups.items():
        done = sum(implemented for _, implemented in rows)
        lines.append(f"| {group} | {done} | {len(rows)} |")
    return lines


def _percent(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "n/a"


def coverage_markdown(spec_path: str | None = None) -> str:
    path = Path(spec_path) if spec_path else default_spec_path()
    spec = json.loads(path.read_text(encoding="utf-8"))
    return render_markdown(build_report(spec, path.name))


def write_coverage(spec_path: str | None, output: str) -> str:
    """Write COVERAGE.md (``output``) and return the path written."""
    target = Path(output)
    target.write_text(coverage_markdown(spec_path), encoding="utf-8")
    return str(target)
