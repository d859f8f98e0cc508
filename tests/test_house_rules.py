"""Rules of the codebase that a reviewer would otherwise have to catch by eye."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# STYLE.md rule 4: time and ids come from simulator/common, nowhere else.
FORBIDDEN = re.compile(
    r"datetime\.(now|utcnow|today)\(|time\.time\(\)|uuid\.?uuid4\(|random\.(random|choice|randint|shuffle)\("
)
ALLOWED = ("simulator/common/", "simulator/bench/")


def python_files() -> list[Path]:
    return [p for p in (ROOT / "simulator").rglob("*.py") if "__pycache__" not in p.parts]


def test_time_and_randomness_are_read_only_in_common() -> None:
    offenders = []
    for path in python_files():
        relative = path.relative_to(ROOT).as_posix()
        if relative.startswith(ALLOWED):
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if FORBIDDEN.search(line):
                offenders.append(f"{relative}:{number}: {line.strip()}")
    assert offenders == []


def test_resource_modules_never_import_flask() -> None:
    resources = ROOT / "simulator" / "sandbox" / "resources"
    importing = [
        p.name
        for p in resources.glob("*.py")
        if re.search(r"^\s*(from|import) flask", p.read_text(), re.M)
    ]
    assert importing == []


def test_product_code_never_imports_the_harness_the_tests_or_the_locustfiles() -> None:
    """``simulator/`` is what users install; ``harness/``, ``tests/`` and ``load/`` build
    on it, never the other way round (docs/design.md, "What may import what")."""
    importing = re.compile(r"^\s*(from|import) (harness|tests|load)\b", re.M)
    offenders = [path.relative_to(ROOT).as_posix() for path in python_files()
                 if importing.search(path.read_text())]
    assert offenders == []


SQL = re.compile(r"\b(SELECT|INSERT INTO|UPDATE \w+ SET|DELETE FROM|WHERE|GROUP BY)\b")


def test_the_service_web_layer_holds_no_sql() -> None:
    """Pages and routes ask the storage for named queries (``count_orders``,
    ``AdminReports``); SQL written in ``service/web/`` would tie a page to the tables."""
    web = ROOT / "simulator" / "service" / "web"
    offenders = [f"{path.relative_to(ROOT).as_posix()}:{number}"
                 for path in web.rglob("*.py")
                 for number, line in enumerate(path.read_text().splitlines(), 1)
                 if SQL.search(line)]
    assert offenders == []


def test_each_database_has_its_tables_created_in_one_place() -> None:
    """The sandbox's tables are in ``sandbox/schema.py`` and the service's in
    ``service/adapters/storage/schema.py``; nothing else creates one."""
    schemas = {ROOT / "simulator" / "sandbox" / "schema.py",
               ROOT / "simulator" / "service" / "adapters" / "storage" / "schema.py"}
    creating = re.compile(r"CREATE TABLE|\.create\(\s*\{", re.IGNORECASE)
    elsewhere = sorted(
        str(path.relative_to(ROOT)) for path in (ROOT / "simulator").rglob("*.py")
        if path not in schemas and creating.search(path.read_text(encoding="utf-8")))
    assert elsewhere == []


# Where a request's form becomes ``Params``: the HTTP edge, and params.py's nested views.
PARAMS_BUILT_IN = frozenset({
    "simulator/sandbox/params.py",
    "simulator/sandbox/api/endpoint.py",
    "simulator/sandbox/hosted/routes.py",
})


def _builds_params(tree: ast.AST) -> bool:
    """A call of ``Params(...)`` (or ``params.Params(...)``) anywhere in the module."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
            if name == "Params":
                return True
    return False


def test_only_the_http_edge_builds_request_parameters() -> None:
    """Operations take typed requests, read from the form at the edge
    (``PaymentIntentCreate.from_params(params)``); resources, flows and the hosted pages'
    flows build those requests, never a form (``Params({...})``) to call an operation."""
    building = sorted(
        relative for path in python_files()
        if (relative := path.relative_to(ROOT).as_posix()) not in PARAMS_BUILT_IN
        and _builds_params(ast.parse(path.read_text(encoding="utf-8"))))
    assert building == []


def test_sandbox_lists_filter_by_name_not_by_a_packed_column() -> None:
    """List filters are named by each object (``FILTERS``) and kept in ``object_filters``;
    the one shared ``subtype`` column that packed several of them into a string is gone,
    and no sandbox module names it again (docs/design.md, "List filters")."""
    sandbox = ROOT / "simulator" / "sandbox"
    offenders = [f"{path.relative_to(ROOT).as_posix()}:{number}"
                 for path in sandbox.rglob("*") if path.suffix in (".py", ".html", ".js")
                 for number, line in enumerate(path.read_text().splitlines(), 1)
                 if "subtype" in line.lower()]
    assert offenders == []


# The service's web layer reaches storage only through ``PaymentService`` and the use
# cases (``simulator/service/usecases/``); the layers below the web never name the
# SQLite repository, only the protocols it implements (docs/design.md, "Layers").
SERVICE = ROOT / "simulator" / "service"
REPOSITORY_MODULE = "simulator.service.adapters.repositories"
TYPED_ON_PROTOCOLS = ("payments", "domain", "usecases", "scheduler.py", "metrics.py")


def _names_repo(node: ast.AST) -> bool:
    if isinstance(node, ast.Attribute):
        return node.attr == "repo"
    return (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
            and node.func.id in ("getattr", "setattr", "hasattr") and len(node.args) > 1
            and isinstance(node.args[1], ast.Constant) and node.args[1].value == "repo")


def repo_attributes(source: str) -> list[int]:
    """Lines reading an attribute named ``repo`` (``rt.repo``, ``getattr(x, "repo")``)."""
    return sorted(node.lineno for node in ast.walk(ast.parse(source)) if _names_repo(node))


def imports_repository_module(source: str) -> bool:
    """Any import naming the repository module, at any depth of the file."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
        else:
            continue
        if any(name == REPOSITORY_MODULE or name.startswith(REPOSITORY_MODULE + ".")
               for name in names):
            return True
    return False


def test_the_repository_checks_catch_what_they_are_for() -> None:
    assert repo_attributes("rt.repo.get_order('o')\nx = service_runtime().repo\n") == [1, 2]
    assert repo_attributes("getattr(rt, 'repo').list_wins()\n") == [1]
    assert repo_attributes("repo = store\nrt.repository.get(repo)\n") == []
    assert imports_repository_module(
        "if TYPE_CHECKING:\n    from simulator.service.adapters.repositories import Repository\n")
    assert imports_repository_module("from simulator.service.adapters import repositories\n")
    assert imports_repository_module("import simulator.service.adapters.repositories as r\n")
    assert not imports_repository_module("from simulator.service.adapters import receipts\n")


def test_the_service_web_layer_never_touches_the_repository() -> None:
    """Pages and routes call ``PaymentService`` and the use cases, never ``rt.repo``."""
    offenders = [f"{path.relative_to(ROOT).as_posix()}:{line}"
                 for path in sorted((SERVICE / "web").rglob("*.py"))
                 for line in repo_attributes(path.read_text())]
    assert offenders == []


def test_the_payment_rules_and_use_cases_never_name_the_sqlite_repository() -> None:
    paths = [path for name in TYPED_ON_PROTOCOLS
             for path in ([SERVICE / name] if name.endswith(".py")
                          else sorted((SERVICE / name).rglob("*.py")))]
    assert len(paths) > len(TYPED_ON_PROTOCOLS)
    offenders = [path.relative_to(ROOT).as_posix() for path in paths
                 if imports_repository_module(path.read_text())]
    assert offenders == []
