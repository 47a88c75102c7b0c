"""The direction of imports inside optotrace (docs/ARCHITECTURE.md, DESIGN.md), read from the source with ast.

Every import counts, including the lazy ones inside functions and those under TYPE_CHECKING: a lazy import of
an upper layer is still a seam running the wrong way."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "optotrace"

# The parts of optotrace that may be imported from anywhere.
EVERYONE_MAY_IMPORT = {
    "errors",  # optotrace/errors.py: the root of the exception family (OptotraceError); it imports nothing
}

# Which other parts each part of optotrace may import (its own modules always).
ALLOWED: dict[str, set[str]] = {
    "runtime": set(),
    "errors": set(),
    "trace": {"runtime"},
    "llm": {"runtime"},
    # Exception: optimize() ends a run by writing its report.html (and MLflow when asked) through reports.
    "optimizers": {"trace", "llm", "runtime", "reports"},
    "modeling": {"llm", "runtime"},
    "agents": {"trace", "llm", "optimizers", "modeling", "runtime"},
    # Grades any callable, so it never needs the agents it measures nor the optimizers that train them.
    "benchmarks": {"trace", "llm", "modeling", "runtime"},
    # Exception: reports reads the run directories the Trainer writes, and draws the graph snapshot stored
    # there with trace's render helpers; only cli imports it.
    "reports": {"trace", "runtime"},
    "cli": {"runtime", "trace", "llm", "optimizers", "modeling", "agents", "benchmarks", "reports"},
    # Exception: the package's own __init__ is the public face (`ot.node`, `ot.bundle`, ...): it re-exports trace,
    # and `ot.optimize` from optimizers (lazily, so `import optotrace` does not load the LLM client).
    "__init__": {"trace", "optimizers"},
}


def _part(path: Path) -> str:
    """The part of optotrace a file belongs to: its top-level subpackage, or the module's own name."""
    rel = path.relative_to(PACKAGE)
    return rel.parts[0] if len(rel.parts) > 1 else rel.stem


def _module_name(path: Path) -> list[str]:
    rel = path.relative_to(PACKAGE).with_suffix("")
    parts = ["optotrace", *rel.parts]
    return parts[:-1] if parts[-1] == "__init__" else parts


def _imported_parts(path: Path) -> list[tuple[int, str, str]]:
    """(line, imported module, part of optotrace it belongs to) for every optotrace import in the file."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    here = _module_name(path)
    package = here if path.name == "__init__.py" else here[:-1]
    found: list[tuple[int, str, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [(alias.name, None) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)]
                module = ".".join([*base, *([node.module] if node.module else [])])
            else:
                module = node.module or ""
            targets = [(module, [alias.name for alias in node.names])]
        else:
            continue
        for module, names in targets:
            dotted = module.split(".")
            if dotted[0] != "optotrace":
                continue
            if len(dotted) > 1:
                found.append((node.lineno, module, dotted[1]))
                continue
            # `import optotrace` / `from optotrace import node`: the public face, i.e. trace; `from optotrace
            # import llm` names the subpackage itself.
            for name in names or ["*"]:
                part = name if (PACKAGE / name).is_dir() or (PACKAGE / f"{name}.py").is_file() else "trace"
                found.append((node.lineno, f"optotrace.{name}", part))
    return found


def _sources() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def _violations(part: str) -> list[str]:
    allowed = ALLOWED[part] | EVERYONE_MAY_IMPORT | {part}
    bad = []
    for path in _sources():
        if _part(path) != part:
            continue
        for line, module, target in _imported_parts(path):
            if target not in allowed:
                bad.append(f"{path.relative_to(PACKAGE.parent)}:{line} imports {module} ({part} -> {target})")
    return bad


def test_every_part_of_the_package_has_a_rule() -> None:
    parts = {_part(p) for p in _sources()}
    missing = sorted(parts - set(ALLOWED))
    assert not missing, f"add an import rule to ALLOWED (and docs/ARCHITECTURE.md) for: {missing}"


def test_the_reader_sees_imports_of_every_kind() -> None:
    """Guards the walker itself: it must see cli's wiring, agents' lazy optimizer import and the root facade."""
    seen = {(_part(p), target) for p in _sources() for _, _, target in _imported_parts(p)}
    assert ("cli", "agents") in seen and ("cli", "benchmarks") in seen
    assert ("agents", "optimizers") in seen  # imported inside train_modeler
    assert ("agents", "trace") in seen  # `from optotrace import Module, node, ...`


@pytest.mark.parametrize("part", sorted(ALLOWED))
def test_imports_flow_one_way(part: str) -> None:
    bad = _violations(part)
    assert not bad, "imports against the direction in docs/ARCHITECTURE.md:\n" + "\n".join(bad)


def _loaded_by(module: str) -> list[str]:
    """The optotrace modules a fresh interpreter holds after importing `module`."""
    code = f"import sys, {module}; print('\\n'.join(m for m in sys.modules if m.startswith('optotrace')))"
    env = {**os.environ, "PYTHONPATH": str(PACKAGE.parent)}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.split()


def test_agents_load_no_benchmark_module() -> None:
    loaded = _loaded_by("optotrace.agents.modeler.training")
    assert "optotrace.agents.modeler.agent" in loaded
    assert not [m for m in loaded if m.startswith("optotrace.benchmarks")]


def test_benchmarks_load_no_agent_and_no_optimizer() -> None:
    loaded = _loaded_by("optotrace.benchmarks.runner.evaluate")
    assert "optotrace.benchmarks.runner.pipeline" in loaded
    assert not [m for m in loaded if m.startswith(("optotrace.agents", "optotrace.optimizers"))]
