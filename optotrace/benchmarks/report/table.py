"""Accuracy by category (linear/nonlinear x with/without table, and overall) from a run's records."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from optotrace.benchmarks.runner.record import ProblemRecord

CATEGORY_ORDER = ("linear-notable", "linear-table", "nonlinear-notable", "nonlinear-table", "all")
CATEGORY_TITLES = {
    "linear-notable": "Linear w/o Table",
    "linear-table": "Linear w/ Table",
    "nonlinear-notable": "Nonlinear w/o Table",
    "nonlinear-table": "Nonlinear w/ Table",
    "all": "All",
}


@dataclass
class CategoryStats:
    category: str
    n: int = 0
    correct: int = 0
    objective_rel_1e4: int = 0
    objective_rel_5pct: int = 0
    code_pass: int = 0
    tokens: int = 0
    cost_usd: float = 0.0

    def pct(self, count: int) -> float:
        return 100.0 * count / self.n if self.n else 0.0

    def add(self, r: ProblemRecord) -> None:
        self.n += 1
        self.correct += r.grade.correct
        self.objective_rel_1e4 += r.grade.objective_ok.get("rel_1e-04", False)
        self.objective_rel_5pct += r.grade.objective_ok.get("rel_5e-02", False)
        self.code_pass += r.grade.code_ok
        self.tokens += r.tokens
        self.cost_usd += r.cost_usd


def category_stats(records: Iterable[ProblemRecord]) -> dict[str, CategoryStats]:
    """Stats per OptiBench category and "all"; records of other types (objective-only files) count in "all"
    and under their own type."""
    stats: dict[str, CategoryStats] = {c: CategoryStats(c) for c in CATEGORY_ORDER}
    for r in records:
        cat = r.type or "untyped"
        stats.setdefault(cat, CategoryStats(cat)).add(r)
        stats["all"].add(r)
    return {k: v for k, v in stats.items() if v.n or k in CATEGORY_ORDER}
