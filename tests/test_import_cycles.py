"""No import cycles among optotrace's modules, and no oversized modules, read from the source with ast.

Every import counts, as in test_import_direction.py: top-level ones, lazy ones inside functions and those
under TYPE_CHECKING. `from x import y` is an edge to x.y when y is a submodule, else to x; relative imports
are resolved against the importing module's package."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "optotrace"

# Import edges that may close a cycle, each with its reason (docs/ARCHITECTURE.md, "Imports"): a data type's
# convenience methods that hand the object to the module working on that type import it lazily.
ALLOWED_EDGES: dict[tuple[str, str], str] = {
    ("optotrace.trace.nodes", "optotrace.trace.propagators"):
        "Node.backward() is a convenience for GraphPropagator().propagate(node, feedback); a lazy import "
        "(and FeedbackItem/Propagator in annotations under TYPE_CHECKING)",
    ("optotrace.trace.nodes", "optotrace.trace.render"):
        "Node._repr_svg_/_repr_html_ (Jupyter) are conveniences for render.notebook_svg/html; lazy imports",
    ("optotrace.modeling.spec", "optotrace.modeling.build"):
        "ModelSpec.check() is a convenience for build.check_spec(spec); it imports build lazily",
    ("optotrace.modeling.spec", "optotrace.modeling.render"):
        "ModelSpec.to_markdown()/to_latex() are conveniences for render's functions; lazy imports",
}

MAX_LINES = 400


def _module_of(path: Path) -> str:
    parts = ["optotrace", *path.relative_to(PACKAGE).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module_of(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def _imports(module: str, path: Path, known: set[str]) -> set[str]:
    """The optotrace modules that `module` imports anywhere in its source."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                source = ".".join([*base, *([node.module] if node.module else [])])
            else:
                source = node.module or ""
            for alias in node.names:
                submodule = f"{source}.{alias.name}"
                found.add(submodule if submodule in known else source)
    return {name for name in found if name in known and name != module}


def import_graph() -> dict[str, set[str]]:
    modules = _modules()
    known = set(modules)
    return {module: _imports(module, path, known) for module, path in modules.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan, iterative), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
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
    return found


def _describe(component: list[str], graph: dict[str, set[str]]) -> str:
    members = set(component)
    edges = [f"{a} -> {b}" for a in component for b in sorted(graph[a] & members)]
    return "\n  ".join(edges)


def test_the_module_graph_has_no_cycles() -> None:
    graph = import_graph()
    for source, target in ALLOWED_EDGES:
        assert target in graph.get(source, set()), f"allowed edge {source} -> {target} no longer exists; drop it"
        graph[source] = graph[source] - {target}
    found = cycles(graph)
    assert not found, "import cycles:\n  " + "\n\n  ".join(_describe(c, graph) for c in found)


def test_the_cycle_finder_sees_lazy_and_relative_imports(tmp_path: Path) -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c"]]
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "one.py").write_text("def f():\n    from . import two\n")
    (package / "two.py").write_text("from pkg.one import f\n")
    known = {"pkg", "pkg.one", "pkg.two"}
    assert _imports("pkg.one", package / "one.py", known) == {"pkg.two"}
    assert _imports("pkg.two", package / "two.py", known) == {"pkg.one"}


def test_no_module_is_longer_than_the_limit() -> None:
    long = []
    for path in _modules().values():
        lines = len(path.read_text(encoding="utf-8").splitlines())
        if lines > MAX_LINES:
            long.append(f"{path.relative_to(PACKAGE.parent)}: {lines} lines")
    assert not long, f"split these by job (at most {MAX_LINES} lines each):\n" + "\n".join(long)
