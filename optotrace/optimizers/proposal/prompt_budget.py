"""Fitting OptoPrime's prompt into its token budget, section by section (sizes in characters; the builder
checks the result with the model's tokenizer and shrinks the budget when it ran over).

The variables, the feedback and the outputs are always shown. Variables that alone would take most of the
budget are shown through a window that moves with the step number, so each comes up in turn. The other
nodes are ranked by their distance to the nearest variable or output and the nearest are kept while the
budget allows; long values are cut in the middle; the history keeps its newest entries.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from optotrace.optimizers.proposal.prompt_render import clip
from optotrace.optimizers.proposal.templates import render

__all__ = ["CHARS_PER_TOKEN", "feedback_limit", "fit_history", "fit_nodes", "fit_variables", "value_limit"]

CHARS_PER_TOKEN = 3.2  # conservative for code and JSON-ish text; the final count uses the model's tokenizer
VARIABLES_SHARE = 0.6  # of the budget, at most, before the variables are windowed


def fit_variables(lines: Sequence[tuple[Any, str]], budget: int, step: int) -> tuple[list[tuple[Any, str]], int]:
    """The (param, line) pairs to show and how many are hidden. All of them, unless they alone would take
    more than VARIABLES_SHARE of the budget; then a window that starts further along at each step."""
    var_budget = int(budget * VARIABLES_SHARE)
    if sum(len(t) + 1 for _, t in lines) <= var_budget:
        return list(lines), 0
    start = (step * max(1, len(lines) // 4)) % len(lines)
    kept, used = [], 0
    for p, t in [*lines[start:], *lines[:start]]:
        if used + len(t) + 1 > var_budget and kept:
            continue
        kept.append((p, t))
        used += len(t) + 1
    keep_ids = {id(p) for p, _ in kept}
    return [(p, t) for p, t in lines if id(p) in keep_ids], len(lines) - len(kept)


def feedback_limit(budget: int, outputs: int, feedback_chars: int) -> int:
    """Characters each output's feedback may take: all of `feedback_chars` for one output, a share for many."""
    if outputs <= 1:
        return feedback_chars
    return max(200, min(feedback_chars, budget // (4 * outputs)))


def value_limit(budget: int, value_chars: int) -> int:
    """Characters per shown value: `value_chars` while the budget is ample, less when it is tight."""
    return value_chars if budget > 20 * value_chars else max(60, budget // 40)


def fit_history(history: Sequence[Mapping[str, Any]], limit: int) -> str:
    """The #History section within `limit` characters, the oldest entries dropped first ("" if none fit)."""
    if not history or limit < 200:
        return ""
    per = max(150, limit // len(history))
    entries = [clip(json.dumps(h, ensure_ascii=False, default=str), per) for h in history]
    while entries and sum(len(e) + 1 for e in entries) > limit:
        entries.pop(0)
    return render("optoprime_history", entries="\n".join(entries)) if entries else ""


def fit_nodes(others: Sequence[Any], always: set[int], cost: Mapping[int, int], rank: Mapping[int, int],
              budget: int) -> set[int]:
    """ids of the nodes to show: the `always` ones (the outputs), then the nearest to a variable or output
    (ties: the latest) while their cost fits in the budget."""
    keep = set(always)
    budget -= sum(cost[i] for i in always if i in cost)
    for n in sorted(others, key=lambda n: (rank.get(id(n), 1 << 30), -n.id)):
        if id(n) in keep:
            continue
        c = cost[id(n)]
        if c > budget:
            continue
        keep.add(id(n))
        budget -= c
    return keep
