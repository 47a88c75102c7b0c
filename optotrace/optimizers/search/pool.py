"""The population of a GEPA-style search: programs (parameter values) with per-example validation scores,
their Pareto front, parent selection from it, and the system-aware merge of two programs.

A program is on the front when it has the best score on at least one validation example. Parents are drawn
from the front after removing programs Pareto-dominated by another (as good on every example, better on one),
with probability proportional to the number of examples each one wins; so a program that is the only one to
solve a few examples stays in play even when its mean is low.

Merge: two front programs A and B that win on different examples, with their nearest common ancestor C. Each
parameter comes from the side that changed it (A's value when only A changed it from C, B's when only B did);
when both changed it, from the program that does better on the examples where A and B disagree.
"""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Program", "choose_parent", "find_merge", "merge_values", "nondominated", "pareto_front", "values_key"]


@dataclass
class Program:
    """One candidate program: its parameter values by name, lineage, and per-example validation scores."""

    id: int
    values: dict[str, Any]
    parents: tuple[int, ...] = ()
    val_scores: list[float] = field(default_factory=list)
    origin: str = "seed"  # seed | mutation | merge
    iteration: int = 0

    @property
    def score(self) -> float:
        return sum(self.val_scores) / len(self.val_scores) if self.val_scores else 0.0

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "parents": list(self.parents), "origin": self.origin, "iteration": self.iteration,
                "score": self.score, "val_scores": self.val_scores,
                "values": json.loads(json.dumps(self.values, default=repr))}


def values_key(values: dict[str, Any]) -> str:
    return json.dumps(values, sort_keys=True, default=repr)


def pareto_front(programs: Sequence[Program]) -> dict[int, set[int]]:
    """Program id -> the validation examples (indices) on which it has the best score."""
    if not programs:
        return {}
    n = min(len(p.val_scores) for p in programs)
    wins: dict[int, set[int]] = {}
    for i in range(n):
        best = max(p.val_scores[i] for p in programs)
        for p in programs:
            if p.val_scores[i] == best:
                wins.setdefault(p.id, set()).add(i)
    return wins


def _dominates(a: Program, b: Program) -> bool:
    pairs = list(zip(a.val_scores, b.val_scores, strict=False))
    return all(x >= y for x, y in pairs) and any(x > y for x, y in pairs)


def nondominated(programs: Sequence[Program]) -> list[Program]:
    """The front's programs that no other program dominates. Of programs with identical score vectors the
    newest stays: it tied on validation after beating its parent on a training minibatch."""
    front_ids = pareto_front(programs)
    front = [p for p in programs if p.id in front_ids]
    keep: list[Program] = []
    for p in reversed(front):
        if any(_dominates(q, p) for q in front if q is not p):
            continue
        if any(q.val_scores == p.val_scores for q in keep):
            continue
        keep.append(p)
    return keep[::-1]


def choose_parent(programs: Sequence[Program], rng: random.Random) -> Program:
    """A parent from the non-dominated front, weighted by how many examples it wins."""
    keep = nondominated(programs)
    wins = pareto_front(keep)
    weights = [len(wins.get(p.id, ())) for p in keep]
    if not keep or sum(weights) == 0:
        return max(programs, key=lambda p: p.score)
    return rng.choices(keep, weights=weights, k=1)[0]


def ancestors_of(program: Program, by_id: dict[int, Program]) -> list[int]:
    """The program's ancestors' ids, nearest first (breadth first)."""
    out: list[int] = []
    queue = list(program.parents)
    while queue:
        pid = queue.pop(0)
        if pid in out:
            continue
        out.append(pid)
        queue.extend(by_id[pid].parents)
    return out


def find_merge(programs: Sequence[Program], tried: set[tuple[int, int]], rng: random.Random
               ) -> tuple[Program, Program, Program] | None:
    """(A, B, common ancestor) for two non-dominated programs that win on different examples, neither an
    ancestor of the other, not tried before; None when there is no such pair."""
    by_id = {p.id: p for p in programs}
    keep = nondominated(programs)
    wins = pareto_front(keep)
    pairs = [(a, b) for i, a in enumerate(keep) for b in keep[i + 1:]
             if (min(a.id, b.id), max(a.id, b.id)) not in tried and wins.get(a.id, set()) != wins.get(b.id, set())]
    rng.shuffle(pairs)
    for a, b in pairs:
        up_a, up_b = ancestors_of(a, by_id), ancestors_of(b, by_id)
        if a.id in up_b or b.id in up_a:
            continue
        common = [x for x in up_a if x in up_b]
        if common:
            return a, b, by_id[common[0]]
    return None


def merge_values(a: Program, b: Program, ancestor: Program) -> dict[str, Any]:
    """Each parameter from the program that changed it; from the better one on the examples where A and B
    disagree when both did."""
    differ = [i for i, (x, y) in enumerate(zip(a.val_scores, b.val_scores, strict=False)) if x != y]
    a_better = sum(a.val_scores[i] for i in differ) >= sum(b.val_scores[i] for i in differ)
    merged: dict[str, Any] = {}
    for name, base in ancestor.values.items():
        va, vb = a.values.get(name, base), b.values.get(name, base)
        same_a, same_b = values_key({0: va}) == values_key({0: base}), values_key({0: vb}) == values_key({0: base})
        if same_a and not same_b:
            merged[name] = vb
        elif same_b and not same_a:
            merged[name] = va
        else:
            merged[name] = va if a_better else vb
    return merged
