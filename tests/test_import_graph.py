"""No import circle inside jupyter_syft, and the wire contract stays a leaf.

The graph is read from the source with ``ast``, so it sees every import a module can make: at
the top, inside functions (imported late to keep ``import jupyter_syft`` light, but a
dependency all the same) and under ``if TYPE_CHECKING:``. Type-only imports count too: a
module that names another's types knows about it, and a circle of them is the same tangle
that mypy happens to resolve.

What an import statement depends on:
- ``import a.b.c`` and ``from a.b import c`` where ``a.b.c`` is a module: that module. Python
  also runs the parent packages' ``__init__`` first; that is not counted, or every package
  whose ``__init__`` imports a submodule would be a circle.
- ``from a.b import name`` where ``name`` is not a module: the package ``a.b`` (its
  ``__init__``). So a package ``__init__`` that re-exports a submodule, whose code (directly or
  further down) takes a name from the package back, is a circle, as it is at run time.
- ``importlib.import_module`` with a computed name (``jupyter_syft.__getattr__``'s lazy public
  names) is not seen: those are entry points from outside, never imported back.
"""

from __future__ import annotations

import ast
from pathlib import Path

import jupyter_syft

ROOT = Path(jupyter_syft.__file__).parent
PACKAGE = "jupyter_syft"


def find_modules(root: Path, package: str) -> dict[str, Path]:
    """Every module under ``root`` (the folder of ``package``), by dotted name."""
    modules = {}
    for path in sorted(root.rglob("*.py")):
        parts = [package, *path.relative_to(root).with_suffix("").parts]
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    return modules


MODULES = find_modules(ROOT, PACKAGE)


def _ours(name: str, modules: dict[str, Path]) -> str | None:
    """``name`` if it is one of ``modules``, else its longest prefix that is (None: not ours)."""
    parts = name.split(".")
    while parts:
        candidate = ".".join(parts)
        if candidate in modules:
            return candidate
        parts.pop()
    return None


def imports_of(module: str, modules: dict[str, Path] = MODULES) -> set[str]:
    """Every module of ``modules`` that ``module`` imports, anywhere in its code."""
    path = modules[module]
    tree = ast.parse(path.read_text(), str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    top = module.split(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == top:
                    found.add(_ours(alias.name, modules) or top)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base_parts = package.split(".")
                base = ".".join(base_parts[: len(base_parts) - node.level + 1])
                source = f"{base}.{node.module}" if node.module else base
            else:
                source = node.module or ""
            if source.split(".")[0] != top:
                continue
            for alias in node.names:
                submodule = f"{source}.{alias.name}"
                found.add(submodule if submodule in modules else _ours(source, modules) or top)
    found.discard(module)
    return found


def import_graph(modules: dict[str, Path] = MODULES) -> dict[str, set[str]]:
    return {module: imports_of(module, modules) for module in modules}


def strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's algorithm: the graph's strongly connected components."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            components.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return components


def a_cycle(graph: dict[str, set[str]], component: list[str]) -> list[str]:
    """One concrete circle inside ``component``, for the failure message."""
    members = set(component)
    start = component[0]
    path, seen = [start], {start}
    while True:
        nxt = min(n for n in graph[path[-1]] if n in members)
        if nxt in seen:
            return [*path[path.index(nxt) :], nxt]
        path.append(nxt)
        seen.add(nxt)


def test_the_walk_sees_late_and_type_only_imports():
    graph = import_graph()
    # `from .. import display` names a module; `from ..errors import X` a name in a module.
    assert "jupyter_syft.display" in graph["jupyter_syft.client.client"]
    assert "jupyter_syft.errors" in graph["jupyter_syft.client.client"]
    # The load_ipython_extension hook imports the magics inside a function.
    assert "jupyter_syft.notebook.magics" in graph["jupyter_syft"]
    # A collection names the session's type only under TYPE_CHECKING.
    assert "jupyter_syft.client.session" in graph["jupyter_syft.client.collection"]
    assert len(graph) > 50


def test_a_package_that_re_exports_what_imports_it_back_is_a_circle(tmp_path):
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("from .a import thing\nHELPER = 1\n")
    (pkg / "a.py").write_text("def thing():\n    from . import HELPER\n    return HELPER\n")
    (pkg / "b.py").write_text("from . import a\n")  # a submodule: no edge to the package
    graph = import_graph(find_modules(pkg, "pkg"))
    assert graph == {"pkg": {"pkg.a"}, "pkg.a": {"pkg"}, "pkg.b": {"pkg.a"}}
    assert [c for c in strongly_connected(graph) if len(c) > 1] == [["pkg", "pkg.a"]]


def test_the_cycle_check_finds_a_circle():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    (component,) = [c for c in strongly_connected(graph) if len(c) > 1]
    assert component == ["a", "b", "c"]
    assert a_cycle(graph, component) == ["a", "b", "c", "a"]


def test_no_import_circle_in_jupyter_syft():
    graph = import_graph()
    circles = [c for c in strongly_connected(graph) if len(c) > 1]
    message = "\n".join(
        f"{len(c)} modules import each other, e.g. " + " -> ".join(a_cycle(graph, c))
        for c in circles
    )
    assert not circles, "import circles in jupyter_syft:\n" + message


def test_wire_imports_nothing_of_ours_but_roles():
    allowed = {"jupyter_syft.roles"}
    for module in MODULES:
        if module == "jupyter_syft.wire" or module.startswith("jupyter_syft.wire."):
            outside = {
                m
                for m in imports_of(module)
                if m != "jupyter_syft.wire" and not m.startswith("jupyter_syft.wire.")
            }
            assert outside <= allowed, f"{module} imports {sorted(outside - allowed)}"
