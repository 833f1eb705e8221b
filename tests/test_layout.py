"""The code's shape, checked: no import cycle, layers that point one way, small modules.

Imports are read from the source (every ``import``, at module level or inside a function;
``if TYPE_CHECKING:`` blocks aside), so a lazy import that dodges a cycle still counts.
Run ``pytest tests/test_layout.py -v`` to see the graph's verdicts.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "genlook_django"
MAX_LINES = 400


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {_module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _import_nodes(tree: ast.AST):
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and _is_type_checking(node):
            yield from (child for branch in node.orelse for child in _import_nodes(branch))
            continue
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        yield from _import_nodes(node)


def _imported(module: str, path: Path) -> set[str]:
    """The project modules ``module`` imports (``from pkg import name`` counts as pkg.name
    when that is a module, else as pkg)."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in _import_nodes(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name in MODULES)
            continue
        if node.level:
            base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
            source = ".".join([*base, node.module] if node.module else base)
        else:
            source = node.module or ""
        for alias in node.names:
            submodule = f"{source}.{alias.name}"
            if submodule in MODULES:
                found.add(submodule)
            elif source in MODULES:
                found.add(source)
    found.discard(module)
    return found


GRAPH = {module: _imported(module, path) for module, path in MODULES.items()}


def _cycles() -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in GRAPH[node]:
            if target not in index:
                visit(target)
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

    for node in GRAPH:
        if node not in index:
            visit(node)
    return found


def _importers_of(prefixes: tuple[str, ...], *, within: str) -> list[str]:
    return sorted(
        f"{module} -> {target}"
        for module, targets in GRAPH.items()
        if module == within or module.startswith(within + ".")
        for target in targets
        if target.startswith(prefixes)
    )


def test_no_import_cycle():
    assert _cycles() == []


@pytest.mark.parametrize(
    ("layer", "forbidden"),
    [
        # Services are called by tasks, views, the admin and commands, never the reverse.
        (
            "genlook_django.services",
            (
                "genlook_django.tasks",
                "genlook_django.views",
                "genlook_django.api",
                "genlook_django.admin",
                "genlook_django.management",
                "genlook_django.templatetags",
            ),
        ),
        # Models hold state; the logic that changes it lives in services.
        ("genlook_django.models", ("genlook_django.services", "genlook_django.jobs")),
        # The client speaks HTTP and nothing else of the app's.
        (
            "genlook_django.client",
            tuple(
                name
                for name in MODULES
                if not name.startswith("genlook_django.client") and name != "genlook_django"
            ),
        ),
        # The sandbox is the other side of the wire: it shares no code with the app.
        (
            "genlook_django.sandbox",
            tuple(
                name
                for name in MODULES
                if not name.startswith("genlook_django.sandbox") and name != "genlook_django"
            ),
        ),
    ],
    ids=["services", "models", "client", "sandbox"],
)
def test_layers_point_one_way(layer, forbidden):
    assert _importers_of(forbidden, within=layer) == []


def _imported_names(node: ast.Import | ast.ImportFrom) -> list[str]:
    if isinstance(node, ast.ImportFrom):
        return [node.module or ""]
    return [alias.name for alias in node.names]


def test_the_client_never_imports_django():
    django_imports = [
        f"{module}: {name}"
        for module, path in MODULES.items()
        if module.startswith("genlook_django.client")
        for node in _import_nodes(ast.parse(path.read_text()))
        for name in _imported_names(node)
        if name == "django" or name.startswith("django.")
    ]
    assert django_imports == []


def test_only_jobs_hands_work_to_the_task_queue():
    importers = sorted(
        module for module, targets in GRAPH.items() if "genlook_django.tasks" in targets
    )
    assert importers == []  # jobs loads the tasks by name; nothing imports tasks.py


def test_no_module_is_over_the_line_limit():
    long = {
        module: lines
        for module, path in MODULES.items()
        if (lines := len(path.read_text().splitlines())) > MAX_LINES
    }
    assert long == {}
