"""optimizers/ by job (docs/ARCHITECTURE.md): few files at the top, none long, the imports one way, and one name
for one thing."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "optotrace" / "optimizers"
OPTIMIZERS = ("optoprime", "opro", "textgrad", "induction", "code_rewrite", "fewshot")
MAX_TOP_FILES = 16
MAX_LINES = 400


def imports_of(path: Path) -> set[str]:
    """Every optotrace module the file imports, lazy imports included (relative ones resolved)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found |= {f"{node.module}.{a.name}" for a in node.names}
    return {m for m in found if m.startswith("optotrace.optimizers")}


def test_few_files_at_the_top_and_none_long() -> None:
    top = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert len(top) <= MAX_TOP_FILES, top
    long = {str(p.relative_to(PACKAGE)): n for p in PACKAGE.rglob("*.py")
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert not long


def test_proposal_imports_neither_train_nor_search_and_train_not_search() -> None:
    for path in (PACKAGE / "proposal").rglob("*.py"):
        bad = {m for m in imports_of(path) if m.startswith(("optotrace.optimizers.train", "optotrace.optimizers.search"))}
        assert not bad, (path.name, bad)
    for path in (PACKAGE / "train").rglob("*.py"):
        bad = {m for m in imports_of(path) if m.startswith("optotrace.optimizers.search")}
        assert not bad, (path.name, bad)


def test_no_optimizer_imports_another() -> None:
    for name in OPTIMIZERS:
        others = {f"optotrace.optimizers.{o}" for o in OPTIMIZERS if o != name}
        bad = imports_of(PACKAGE / f"{name}.py") & others
        assert not bad, (name, bad)


def test_one_name_for_one_thing() -> None:
    classes: dict[str, list[str]] = {}
    for path in PACKAGE.parent.rglob("*.py"):
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.ClassDef):
                classes.setdefault(node.name, []).append(str(path.relative_to(PACKAGE.parent)))
    mine = {k: v for k, v in classes.items() if len(v) > 1 and any(p.startswith("optimizers") for p in v)}
    assert not mine
