"""The structure rules of docs/architecture.md, checked on the source of civic_app/ with ast.

- No ``except ImportError``: every feature is present; a missing one is an error, not an
  empty page.
- No lookup of another feature's models by name (``load_model``, ``importlib``,
  ``__import__``); only the feature loader imports the packages listed in FEATURES by name.
- The readers (calendar, Telegram, dashboard, privacy, notify) reach the features' data only
  through the owner's ``queries`` module (model classes may be named for type checking).
- No import circle between civic_app modules at module level.
- Only the outbox worker (and ``enqueue``) changes an outbox message's status.
- No module over 700 lines.
"""

from __future__ import annotations

import ast
import functools
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "civic_app"
MAX_LINES = 700
# The one place that imports feature packages by name: the FEATURES list is the registry.
FEATURE_LOADERS = {"civic_app", "civic_app.models"}
FEATURES_WITH_DATA = ("visits", "meetings", "cards", "committee")
READERS = ("calendar", "telegram", "dashboard", "privacy", "notify")


@dataclass(frozen=True)
class Source:
    name: str  # dotted module name
    path: Path
    tree: ast.Module

    @property
    def rel(self) -> str:
        return str(self.path.relative_to(ROOT))


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def sources() -> list[Source]:
    return list(_parsed_sources())


@functools.cache
def _parsed_sources() -> tuple[Source, ...]:
    """civic_app/ parsed once per test process; the checks only read the trees."""
    return tuple(
        Source(module_name(path), path, ast.parse(path.read_text(encoding="utf-8"), str(path)))
        for path in sorted(PACKAGE.rglob("*.py"))
    )


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imported_names(source: Source, node: ast.Import | ast.ImportFrom, known: set[str]) -> list[str]:
    """The civic_app modules an import statement loads (``from a import b`` loads ``a.b`` when
    ``b`` is a module), resolved for relative imports."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names if alias.name.startswith("civic_app")]
    if node.level:
        package = source.name if source.path.name == "__init__.py" else source.name.rsplit(".", 1)[0]
        base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
        target = f"{base}.{node.module}" if node.module else base
    else:
        target = node.module or ""
    if not target.startswith("civic_app"):
        return []
    names = [target]
    names += [f"{target}.{alias.name}" for alias in node.names if f"{target}.{alias.name}" in known]
    return names


def module_level_imports(source: Source, known: set[str]) -> set[str]:
    """Imports executed when the module is imported: top level, including if/try blocks but not
    functions, classes' methods or ``if TYPE_CHECKING`` blocks."""
    found: set[str] = set()

    def visit(statements: list[ast.stmt]) -> None:
        for node in statements:
            if isinstance(node, ast.Import | ast.ImportFrom):
                found.update(imported_names(source, node, known))
            elif isinstance(node, ast.If):
                if not _is_type_checking(node):
                    visit(node.body)
                visit(node.orelse)
            elif isinstance(node, ast.Try):
                visit(node.body)
                for handler in node.handlers:
                    visit(handler.body)
                visit(node.orelse)
                visit(node.finalbody)
            elif isinstance(node, ast.With | ast.ClassDef):
                visit(node.body)

    visit(source.tree.body)
    return found


def import_graph(all_sources: list[Source]) -> dict[str, set[str]]:
    """Module → modules its import runs, with each subpackage ``__init__`` on the way (importing
    ``civic_app.cards.models`` runs ``civic_app.cards`` first). The root package is left out:
    it is always initialised first, whoever imports."""
    known = {s.name for s in all_sources}
    graph: dict[str, set[str]] = {}
    for source in all_sources:
        targets: set[str] = set()
        for name in module_level_imports(source, known):
            parts = name.split(".")
            for end in range(2, len(parts) + 1):
                candidate = ".".join(parts[:end])
                if candidate in known and candidate != source.name:
                    targets.add(candidate)
        graph[source.name] = targets
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = [0]

    def connect(node: str) -> None:
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                connect(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            connect(node)
    return found


def _feature(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


# --- the rules ----------------------------------------------------------------------------------


def test_nothing_in_civic_app_catches_import_errors():
    offenders = []
    for source in sources():
        for node in ast.walk(source.tree):
            if not isinstance(node, ast.ExceptHandler) or node.type is None:
                continue
            caught = node.type.elts if isinstance(node.type, ast.Tuple) else [node.type]
            names = {c.id if isinstance(c, ast.Name) else getattr(c, "attr", "") for c in caught}
            if names & {"ImportError", "ModuleNotFoundError"}:
                offenders.append(f"{source.rel}:{node.lineno}")
    assert offenders == [], "a missing feature must fail loudly: " + ", ".join(offenders)


def test_no_module_looks_up_another_features_code_by_name():
    offenders = []
    for source in sources():
        for node in ast.walk(source.tree):
            if isinstance(node, ast.FunctionDef) and node.name == "load_model":
                offenders.append(f"{source.rel}:{node.lineno} defines load_model")
            if source.name in FEATURE_LOADERS:
                continue
            if isinstance(node, ast.Import) and any(a.name.startswith("importlib") for a in node.names):
                offenders.append(f"{source.rel}:{node.lineno} imports importlib")
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("importlib"):
                offenders.append(f"{source.rel}:{node.lineno} imports from importlib")
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "__import__":
                offenders.append(f"{source.rel}:{node.lineno} calls __import__")
    assert offenders == [], "import what you read, or call the owner's queries: " + "; ".join(offenders)


def test_readers_reach_features_only_through_their_queries_modules():
    known = {s.name for s in sources()}
    offenders = []
    for source in sources():
        if _feature(source.name) not in READERS:
            continue
        type_only = {
            id(n)
            for block in ast.walk(source.tree)
            if isinstance(block, ast.If) and _is_type_checking(block)
            for n in ast.walk(block)
        }
        for node in ast.walk(source.tree):
            if not isinstance(node, ast.Import | ast.ImportFrom) or id(node) in type_only:
                continue
            for name in imported_names(source, node, known):
                parts = name.split(".")
                if len(parts) > 2 and parts[1] in FEATURES_WITH_DATA and parts[2] != "queries":
                    offenders.append(f"{source.rel}:{node.lineno} imports {name}")
    assert offenders == [], "read other features through <feature>/queries.py: " + "; ".join(offenders)


def test_no_import_circle_between_civic_app_modules():
    found = cycles(import_graph(sources()))
    assert found == [], "module-level import circles: " + " | ".join(" <-> ".join(c) for c in found)


def test_no_module_over_700_lines():
    long = {
        source.rel: n
        for source in sources()
        if (n := len(source.path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert long == {}, f"split these modules (at most {MAX_LINES} lines): {long}"


def _status_writes(source: Source) -> list[int]:
    """Lines that set an outbox message's status: ``x.status = STATUS_…`` with a status of
    notify.models, or ``update(OutboxMessage)….values(status=…)``."""
    statuses: set[str] = set()
    for node in ast.walk(source.tree):
        if isinstance(node, ast.ImportFrom) and node.module == "civic_app.notify.models":
            statuses.update(a.asname or a.name for a in node.names if a.name.startswith("STATUS_"))
    lines = []
    for node in ast.walk(source.tree):
        if (
            isinstance(node, ast.Assign)
            and isinstance(node.value, ast.Name)
            and node.value.id in statuses
            and any(isinstance(t, ast.Attribute) and t.attr == "status" for t in node.targets)
        ):
            lines.append(node.lineno)
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "values"
            and any(k.arg == "status" for k in node.keywords)
            and any(isinstance(n, ast.Name) and n.id == "OutboxMessage" for n in ast.walk(node.func))
        ):
            lines.append(node.lineno)
    return lines


def test_only_the_outbox_worker_changes_a_messages_status():
    owners = {"civic_app.notify.worker", "civic_app.notify.services"}  # the worker, and enqueue
    offenders = [
        f"{source.rel}:{line}"
        for source in sources()
        if source.name not in owners
        for line in _status_writes(source)
    ]
    assert offenders == [], "call civic_app.notify.worker instead: " + ", ".join(offenders)


# --- the checker checks what it should --------------------------------------------------------


def test_the_circle_finder_sees_a_circle_through_a_package_init(tmp_path):
    graph = {"a.x": {"a.y"}, "a.y": {"b"}, "b": {"a.x"}, "c": {"a.x"}}
    assert cycles(graph) == [["a.x", "a.y", "b"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_imports_inside_functions_and_type_checking_blocks_do_not_count():
    tree = ast.parse(
        "from typing import TYPE_CHECKING\n"
        "import civic_app.errors\n"
        "if TYPE_CHECKING:\n    from civic_app.cards import models\n"
        "def f():\n    from civic_app.meetings import queries\n"
    )
    source = Source("civic_app.example", PACKAGE / "example.py", tree)
    known = {"civic_app.errors", "civic_app.cards.models", "civic_app.meetings.queries"}
    assert module_level_imports(source, known) == {"civic_app.errors"}
