"""Successive halving: choose among many candidates on a small validation set without scoring each on all of it.

Every candidate is scored on the first few validation examples; the better half goes on to twice as many, and
so on until one is left or the examples run out. The current values (the incumbent) are scored on every
example, so a candidate is adopted only when it beats them on the same examples. Scores come through an
Evaluator, which remembers each (values, example) score, so a later rung pays only for the new examples.

The cost of racing N candidates over D examples from a first rung of n0 is about N*n0*(1 + log2(D/n0)/2)
workflow calls, against N*D for scoring each on all; `affordable()` inverts that for a call budget.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from optotrace.llm.run_budget import RunBudgetExhausted
from optotrace.optimizers.train.evaluation import Evaluator

__all__ = ["MIN_LEAD", "RaceResult", "affordable", "race", "rung_sizes"]

MIN_LEAD = 2.0  # examples' worth of score a winner must be ahead of the incumbent by


@dataclass
class RaceResult:
    best: int | None  # index into the candidates, None when none beat the incumbent
    best_score: float  # the winner's (or the incumbent's) mean on the examples both were scored on
    incumbent_score: float
    scored: list[dict[str, Any]] = field(default_factory=list)  # {"candidate", "examples", "score"} per rung
    stopped: str | None = None  # "budget" when the run's budget ended the race


def rung_sizes(n_examples: int, first: int | None = None) -> list[int]:
    """How many examples each rung scores on: first, 2*first, ... up to all of them."""
    if n_examples < 1:
        return []
    size = max(1, min(n_examples, first or max(2, math.ceil(n_examples / 4))))
    sizes = [size]
    while sizes[-1] < n_examples:
        sizes.append(min(n_examples, sizes[-1] * 2))
    return sizes


def affordable(calls: int, n_examples: int, first: int | None = None, *, incumbent_scored: bool = False) -> int:
    """How many candidates a race over `n_examples` can take within about `calls` workflow calls (the
    incumbent's own scores included, unless it was scored on all of them already)."""
    sizes = rung_sizes(n_examples, first)
    if not sizes:
        return 0
    per_candidate = sizes[0] + sum((b - a) / 2 ** (i + 1) for i, (a, b) in enumerate(zip(sizes, sizes[1:], strict=False)))
    incumbent = 0 if incumbent_scored else n_examples
    return max(0, int((calls - incumbent) // max(per_candidate, 1)))


def race(
    evaluator: Evaluator,
    candidates: Sequence[Mapping[Any, Any]],
    examples: Sequence[Any],
    *,
    first: int | None = None,
    min_lead: float = MIN_LEAD,
) -> RaceResult:
    """Race `candidates` (each an update {param: value}) against the current values on `examples`.

    The survivors of each rung are the better half by mean score (ties: the earlier candidate). A candidate is
    chosen only when it leads the incumbent by at least `min_lead` examples' worth of score (the sum of the
    per-example differences) on the examples it was scored on: on a small validation set a lead of one
    example is as often luck as not, and the best of many candidates is the luckiest. When the run's budget
    ends the race, the best of the candidates scored on the most examples so far is compared the same way."""
    sizes = rung_sizes(len(examples), first)
    result = RaceResult(None, 0.0, 0.0)
    if not sizes:
        return result
    alive = list(range(len(candidates)))
    means: dict[int, tuple[int, float]] = {}  # candidate -> (examples scored on, mean)
    incumbent: dict[int, float] = {}  # rung size -> the incumbent's mean on that prefix
    try:
        for rung, size in enumerate(sizes):
            part = examples[:size]
            incumbent[size] = evaluator.mean(part)
            for i in alive:
                means[i] = (size, evaluator.mean(part, candidates[i]))
                result.scored.append({"candidate": i, "examples": size, "score": means[i][1]})
            if len(alive) <= 1:
                continue
            if rung < len(sizes) - 1:
                alive.sort(key=lambda i: (-means[i][1], i))
                alive = sorted(alive[: max(1, math.ceil(len(alive) / 2))])
    except RunBudgetExhausted:
        result.stopped = "budget"
    return _decide(result, means, incumbent, min_lead)


def _decide(result: RaceResult, means: dict[int, tuple[int, float]], incumbent: dict[int, float],
            min_lead: float) -> RaceResult:
    if not incumbent:
        return result
    most = max((n for n, _ in means.values()), default=0)
    leaders = sorted((i for i, (n, _) in means.items() if n == most and n in incumbent),
                     key=lambda i: (-means[i][1], i))
    if not leaders:
        size = max(incumbent)
        result.incumbent_score = result.best_score = incumbent[size]
        return result
    top = leaders[0]
    result.incumbent_score = incumbent[most]
    lead = (means[top][1] - result.incumbent_score) * most  # examples' worth of score ahead of the incumbent
    if lead > 1e-9 and lead >= min_lead - 1e-9:
        result.best, result.best_score = top, means[top][1]
    else:
        result.best_score = result.incumbent_score
    return result
