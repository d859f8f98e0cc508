"""The import graph of ``simulator/`` has a direction (docs/design.md, "Layers").

The graph is read statically with ``ast``: module-level imports, imports inside
functions and ``if TYPE_CHECKING:`` blocks, and ``importlib.import_module("…")``
calls all count, because each of them is a dependency a reader has to follow.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PRODUCT = "simulator"

# Layers of the sandbox, lowest first (docs/design.md, "Layers"). A module may
# import its own layer or a lower one; the first matching prefix wins, so a
# longer prefix goes before the package that holds it.
SANDBOX_LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("common", ("simulator.common",)),
    ("infrastructure", (
        "simulator.sandbox.account", "simulator.sandbox.bank_accounts",
        "simulator.sandbox.virtual_accounts",
        "simulator.sandbox.cards", "simulator.sandbox.codec",
        "simulator.sandbox.context",
        "simulator.sandbox.errors", "simulator.sandbox.faults", "simulator.sandbox.jobs",
        "simulator.sandbox.metrics", "simulator.sandbox.params", "simulator.sandbox.runtime",
        "simulator.sandbox.schema",
        "simulator.sandbox.sdk_reference", "simulator.sandbox.search_query",
        "simulator.sandbox.store", "simulator.sandbox.timeline",
        "simulator.sandbox.versions", "simulator.sandbox.webhooks.schedule",
        "simulator.sandbox.webhooks.signing", "simulator.sandbox.webhooks.receiver",
    )),
    ("resources", ("simulator.sandbox.resources",)),
    ("flows", ("simulator.sandbox.flows", "simulator.sandbox.webhooks")),
    ("http", (
        "simulator.sandbox.api", "simulator.sandbox.hosted", "simulator.sandbox.control",
        "simulator.sandbox.dashboard", "simulator.sandbox.fallback",
    )),
    ("wiring", ("simulator.sandbox.app", "simulator.sandbox.registrations")),
    # Tools that read the whole sandbox (the coverage table, the fixture replay).
    ("tools", (
        "simulator.sandbox.coverage", "simulator.sandbox.fixture_replay",
    )),
)

# Cycles and upward imports known as exceptions (none today, in the sandbox or the
# service): an entry is removed when its fix lands. Any cycle not listed here fails the test.
KNOWN_CYCLES: set[frozenset[str]] = set()
KNOWN_UPWARD_IMPORTS: set[tuple[str, str]] = set()


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def product_modules() -> dict[str, Path]:
    return {
        module_name(path): path
        for path in (ROOT / PRODUCT).rglob("*.py")
        if "__pycache__" not in path.parts
    }


def imported_names(tree: ast.AST, package: str) -> Iterator[str]:
    """Every dotted name ``tree`` imports, ``from a import b`` giving ``a.b``
    (a submodule when one exists, else an attribute of ``a``)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            yield from (f"{base}.{alias.name}" for alias in node.names)
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, (ast.Attribute, ast.Name))
            and getattr(node.func, "attr", getattr(node.func, "id", "")) == "import_module"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            yield node.args[0].value


def import_graph() -> dict[str, set[str]]:
    modules = product_modules()

    def owner(name: str) -> str:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name

    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        tree = ast.parse(path.read_text())
        targets = {owner(imported) for imported in imported_names(tree, package)}
        graph[name] = {target for target in targets if target and target != name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[frozenset[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[frozenset[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for target in sorted(graph.get(module, ())):
            if target not in index:
                visit(target)
                low[module] = min(low[module], low[target])
            elif target in on_stack:
                low[module] = min(low[module], index[target])
        if low[module] == index[module]:
            component = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.add(member)
                if member == module:
                    break
            if len(component) > 1:
                found.append(frozenset(component))

    for module in sorted(graph):
        if module not in index:
            visit(module)
    return found


def layer_of(module: str) -> int | None:
    for rank, (_, prefixes) in enumerate(SANDBOX_LAYERS):
        if any(module == prefix or module.startswith(prefix + ".") for prefix in prefixes):
            return rank
    return None


def upward_imports(graph: dict[str, set[str]]) -> set[tuple[str, str]]:
    found = set()
    for source, targets in graph.items():
        source_layer = layer_of(source)
        if source_layer is None:
            continue
        for target in targets:
            target_layer = layer_of(target)
            if target_layer is not None and target_layer > source_layer:
                found.add((source, target))
    return found


def test_the_graph_sees_imports_inside_functions_and_import_module() -> None:
    source = (
        "import importlib\n"
        "from . import sibling\n"
        "def later():\n"
        "    from simulator.sandbox.store import Store\n"
        "    return importlib.import_module('simulator.sandbox.codec')\n"
    )
    names = set(imported_names(ast.parse(source), "simulator.sandbox.resources"))
    assert {
        "simulator.sandbox.resources.sibling", "simulator.sandbox.store.Store",
        "simulator.sandbox.codec",
    } <= names


def test_cycle_finder_reports_a_cycle_and_not_a_chain() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [frozenset("abc")]
    assert cycles({"a": {"b"}, "b": {"c"}, "c": set()}) == []


def test_a_resource_importing_a_route_is_an_upward_import() -> None:
    graph = {"simulator.sandbox.resources.charge": {"simulator.sandbox.api.payments"}}
    assert upward_imports(graph) == {
        ("simulator.sandbox.resources.charge", "simulator.sandbox.api.payments")
    }
    assert upward_imports({"simulator.sandbox.api.payments": {"simulator.sandbox.store"}}) == set()


def test_every_sandbox_module_has_a_layer() -> None:
    unplaced = [
        name for name in product_modules()
        if name.startswith("simulator.sandbox.") and layer_of(name) is None
    ]
    assert unplaced == []


def test_simulator_has_no_import_cycle() -> None:
    found = set(cycles(import_graph()))
    assert found - KNOWN_CYCLES == set()
    # The sandbox ends with no known exception of its own.
    assert not any(name.startswith("simulator.sandbox") for c in KNOWN_CYCLES for name in c)


def test_no_module_imports_a_higher_layer() -> None:
    assert upward_imports(import_graph()) - KNOWN_UPWARD_IMPORTS == set()


# The tools start a whole sandbox on demand, and only then pay for importing it.
LATE_IMPORTS_ALLOWED = ("simulator.sandbox.coverage", "simulator.sandbox.fixture_replay")


def test_sandbox_modules_import_the_sandbox_at_module_level() -> None:
    """An import inside a function hides a dependency (often one that would close a
    cycle); in the sandbox every dependency on our own code is stated at the top."""
    late = []
    for name, path in product_modules().items():
        if not name.startswith("simulator.sandbox") or name.startswith(LATE_IMPORTS_ALLOWED):
            continue
        for function in ast.walk(ast.parse(path.read_text())):
            if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            late += [
                f"{name}:{node.lineno}" for node in ast.walk(function)
                if isinstance(node, (ast.Import, ast.ImportFrom))
                and "simulator" in ast.unparse(node)
            ]
    assert late == []
