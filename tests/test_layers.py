"""The layer rules and the absence of import circles, checked on the source (``ast``).

Every import counts, also those inside functions: a function-level import only hides a circle
from the interpreter at start-up, not from the reader. Imports under ``if TYPE_CHECKING:`` do
not run and are left out.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("bot", "storage", "charts")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _sources() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" in path.parts:
                continue  # Alembic's scripts are loaded by Alembic, not imported
            found[_module_name(path)] = path
    return found


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imported_names(tree: ast.AST, module: str, is_package: bool) -> set[str]:
    """Every dotted name the module imports (absolute), whether project or third party."""
    names: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = module.split(".")
                anchor = anchor if is_package else anchor[:-1]
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return names


def _graph() -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """(every name each module imports, the project modules each module imports)."""
    sources = _sources()
    names: dict[str, set[str]] = {}
    edges: dict[str, set[str]] = {}
    for module, path in sources.items():
        imported = _imported_names(
            ast.parse(path.read_text(encoding="utf-8")), module, path.name == "__init__.py"
        )
        names[module] = imported
        # "from a.b import c" names a.b.c when c is a module, otherwise something inside a.b.
        edges[module] = {name for name in imported if name in sources and name != module}
    return names, edges


NAMES, EDGES = _graph()


def _starts(name: str, *prefixes: str) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def test_the_graph_sees_the_project() -> None:
    # Guards the checks below against passing because the scan found nothing.
    assert len(EDGES) > 60
    assert "storage.services.queries" in EDGES["storage.services.ask"]
    assert "bot.handlers.shared" in EDGES["bot.handlers.charts"]
    assert "telegram" in NAMES["bot.handlers.questions"]


@pytest.mark.parametrize("module", sorted(m for m in NAMES if _starts(m, "storage", "charts")))
def test_storage_and_charts_know_no_transport(module: str) -> None:
    wrong = sorted(n for n in NAMES[module] if _starts(n, "telegram", "bot"))
    assert not wrong, f"{module} imports {wrong}"


@pytest.mark.parametrize("module", sorted(m for m in NAMES if _starts(m, "storage.domain")))
def test_domain_is_pure(module: str) -> None:
    wrong = sorted(
        n
        for n in NAMES[module]
        if _starts(n, "sqlalchemy", "sqlmodel", "alembic", "telegram", "bot", "charts")
        or (_starts(n, "storage") and not _starts(n, "storage.domain") and n != "storage")
    )
    assert not wrong, f"{module} imports {wrong}"


@pytest.mark.parametrize("module", sorted(m for m in NAMES if _starts(m, "storage.data")))
def test_data_layer_knows_nothing_above_it(module: str) -> None:
    wrong = sorted(
        n
        for n in NAMES[module]
        if _starts(n, "storage.services", "storage.files", "storage.ops", "charts")
    )
    assert not wrong, f"{module} imports {wrong}"


@pytest.mark.parametrize(
    "module", sorted(m for m in NAMES if _starts(m, "storage.services", "storage.files"))
)
def test_services_and_files_stay_below_ops(module: str) -> None:
    wrong = sorted(n for n in NAMES[module] if _starts(n, "storage.ops", "charts"))
    assert not wrong, f"{module} imports {wrong}"


# The ways to a session of one's own; a handler's sessions come from MonevContext.read/write,
# which carry the sender's office scope (storage/data/boundary.py).
_OWN_SESSIONS = (
    "storage.data.db.read_scope",
    "storage.data.db.session_scope",
    "storage.data.db.statement_scope",
    "storage.data.db.make_engine",
    "storage.services.cache.FigureCache",
)


@pytest.mark.parametrize("module", sorted(m for m in NAMES if _starts(m, "bot.handlers")))
def test_handlers_read_only_through_the_scoped_context(module: str) -> None:
    wrong = sorted(n for n in NAMES[module] if n in _OWN_SESSIONS)
    assert not wrong, f"{module} opens sessions of its own: {wrong}"


def _table_classes() -> dict[int, str]:
    """Every SQLModel table class of the schema (``table=True``: mapped to a table of
    ``SQLModel.metadata``), by identity: the list follows the schema, nobody keeps it."""
    from sqlmodel import SQLModel

    import storage.data.models  # noqa: F401  (registers the tables)

    tables = set(SQLModel.metadata.tables.values())
    found: dict[int, str] = {}
    todo = list(SQLModel.__subclasses__())
    while todo:
        cls = todo.pop()
        todo.extend(cls.__subclasses__())
        if getattr(cls, "__table__", None) in tables:
            found[id(cls)] = cls.__name__
    return found


TABLES = _table_classes()


def _imported_tables(names: set[str]) -> list[str]:
    """The imported names that are table classes, wherever they were imported from (a
    re-export counts), and the table module itself."""
    import importlib

    wrong = []
    for name in sorted(names):
        if name == "storage.data.models":
            wrong.append(name)
            continue
        base, _, attr = name.rpartition(".")
        if not base or not _starts(base, *PACKAGES):
            continue
        try:
            value = getattr(importlib.import_module(base), attr, None)
        except ImportError:
            continue  # "from a import b" naming a module: not a class
        if id(value) in TABLES:
            wrong.append(name)
    return wrong


def test_the_table_list_follows_the_schema() -> None:
    # Guards the check below against passing because no table was found.
    assert {"AppUser", "Pelaporan", "Bidang", "RegMessage", "Setting"} <= set(TABLES.values())
    assert _imported_tables({"storage.services.users.AppUser", "storage.data.models.Bidang"})
    assert not _imported_tables({"storage.domain.policy.Role", "storage.services.users.get_user"})


@pytest.mark.parametrize("module", sorted(m for m in NAMES if _starts(m, "bot")))
def test_the_transport_imports_no_table(module: str) -> None:
    """``bot/`` gets plain values and dataclasses from services, never a table class (nor
    the table module): what a row holds and how it is queried stays in ``storage``."""
    wrong = _imported_tables(NAMES[module])
    assert not wrong, f"{module} imports tables: {wrong}"


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def connect(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            connect(v)
    return found


def test_cycle_finder_finds_a_cycle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_circles() -> None:
    assert _cycles(EDGES) == []


def _reachable(edges: dict[str, set[str]], start: str) -> set[str]:
    seen: set[str] = set()
    stack = [start]
    while stack:
        for w in edges.get(stack.pop(), ()):
            if w not in seen:
                seen.add(w)
                stack.append(w)
    return seen


def _files_services_circles(edges: dict[str, set[str]]) -> list[tuple[str, str]]:
    """(service, file module) imports that close a circle between the two packages: the
    service is reached from a ``storage.files`` module and itself imports one."""
    reached = {
        s
        for f in edges
        if _starts(f, "storage.files")
        for s in _reachable(edges, f)
        if _starts(s, "storage.services")
    }
    return sorted((s, t) for s in reached for t in edges.get(s, ()) if _starts(t, "storage.files"))


def test_files_services_circle_finder() -> None:
    files_first = {
        "storage.files.x": {"storage.services.a"},
        "storage.services.a": {"storage.files.y"},
    }
    assert _files_services_circles(files_first) == [("storage.services.a", "storage.files.y")]
    one_way = {"storage.files.x": {"storage.services.a"}, "storage.services.b": {"storage.files.y"}}
    assert _files_services_circles(one_way) == []


def test_no_circle_between_services_and_files() -> None:
    # Issue 26: a file format may use the services (an export reads figures through them),
    # and a service may use a file module no file module reaches; never both on one path.
    # Text rules both need (normalise_name, the report's regexes and headings, the calendar)
    # are in storage/domain.
    assert _files_services_circles(EDGES) == []


# The report parser reads "<b>" marks in the offices' exported reports: input, not output.
_READS_MARKUP = {"storage.files.report_parser"}


@pytest.mark.parametrize(
    "module", sorted(m for m in NAMES if _starts(m, "storage", "charts") and m not in _READS_MARKUP)
)
def test_storage_and_charts_write_no_telegram_markup(module: str) -> None:
    source = _sources()[module].read_text(encoding="utf-8")
    found = [w for w in ("<b>", "<i>", "parse_mode", "api.telegram") if w in source]
    assert not found, f"{module} contains {found}"
