"""Which nodes OptoPrime's prompt shows, and the names it shows them under.

The nodes are those on the paths from the variables that received feedback to the outputs that got it, the
outputs themselves, and the other inputs of the operations on those paths (constants, values not reached
from a variable). Each node carries its distance in edges to the nearest variable or output, which decides
what is kept when the prompt must shrink (prompt_budget.py). Names come from trace's one naming rule: a
node's own name, with `_2`, `_3`... only when two collide; the variables keep the names the optimizer gave
them.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from optotrace.trace import union_subgraph, unique_names

__all__ = ["StepGraph", "prompt_names", "step_graph"]


@dataclass
class StepGraph:
    nodes: list[Any]  # parents before children, in the order of the outputs that got feedback
    outputs: list[Any]
    feedback: list[tuple[Any, Any]]  # (output node, feedback)
    names: dict[int, str]  # id(node) -> prompt name
    rank: dict[int, int]  # id(node) -> distance to the nearest variable or output


def prompt_names(nodes: Sequence[Any], fixed: Mapping[int, str]) -> dict[int, str]:
    """id(node) -> the name the prompt shows: the variables keep theirs (`fixed`); every other node gets its
    own name, suffixed only on a collision (trace's `unique_names`; the variables come first, so they keep
    the plain name when another node shares it)."""
    pinned = [n for n in nodes if id(n) in fixed]
    named = unique_names([*pinned, *(n for n in nodes if id(n) not in fixed)])
    out = {id(n): name.replace(" ", "_").replace("\n", "_") for n, name in named.items()}
    out.update(fixed)
    return out


def step_graph(variables: Sequence[Any], names: Mapping[int, str]) -> StepGraph:
    """The nodes to show for the `variables` (which hold feedback), named and ranked."""
    items = [item for p in variables for item in getattr(p, "feedback", ())]
    nodes = list(union_subgraph(list(variables)))
    outputs: dict[int, Any] = {}
    feedback: dict[int, tuple[Any, Any]] = {}
    for item in items:
        for out in getattr(item, "outputs", None) or (item.output,):
            outputs.setdefault(id(out), out)
        feedback.setdefault(id(item.output), (item.output, item.feedback))
    ids = {id(n) for n in nodes}
    extra = [o for k, o in outputs.items() if k not in ids]
    ids.update(id(o) for o in extra)
    # The other inputs of the operations shown (constants, values not on a path from a variable).
    for n in [*nodes, *extra]:
        for parent in n.parents:
            if id(parent) not in ids:
                ids.add(id(parent))
                extra.append(parent)
    out_list = list(outputs.values())  # in the order the feedback was given (the examples' order)
    nodes = stable_order([*nodes, *extra], out_list)
    return StepGraph(
        nodes=nodes,
        outputs=out_list,
        feedback=[feedback[id(o)] for o in out_list if id(o) in feedback],
        names=prompt_names(nodes, {id(p): names[id(p)] for p in variables if id(p) in names}),
        rank=_ranks(nodes, variables, out_list),
    )


def stable_order(nodes: Sequence[Any], outputs: Sequence[Any]) -> list[Any]:
    """Parents before children, walking up from each output in turn (nodes no output reaches: by creation).
    Not creation order: examples run on several threads create their nodes in whatever order the threads run,
    and a prompt that changed with it would make runs irreproducible (and miss the cache)."""
    inside = {id(n): n for n in nodes}
    order: list[Any] = []
    done: set[int] = set()
    for start in [*outputs, *sorted(nodes, key=lambda n: n.id)]:
        if id(start) not in inside or id(start) in done:
            continue
        stack: list[tuple[Any, bool]] = [(start, False)]
        while stack:
            n, expanded = stack.pop()
            if id(n) in done:
                continue
            if expanded:
                done.add(id(n))
                order.append(n)
                continue
            stack.append((n, True))
            stack.extend((q, False) for q in reversed(n.parents) if id(q) in inside and id(q) not in done)
    return order


def _ranks(nodes: Sequence[Any], sources: Sequence[Any], outputs: Sequence[Any]) -> dict[int, int]:
    """Distance (edges) from each node to the nearest variable (downstream) or output (upstream)."""
    inside = {id(n) for n in nodes}
    kids: dict[int, list[Any]] = {}
    for n in nodes:
        for p in n.parents:
            if id(p) in inside:
                kids.setdefault(id(p), []).append(n)
    rank: dict[int, int] = {}

    def bfs(starts: Sequence[Any], step: Callable[[Any], Sequence[Any]]) -> None:
        queue: deque[tuple[Any, int]] = deque((s, 0) for s in starts if id(s) in inside)
        seen: set[int] = set()
        while queue:
            n, d = queue.popleft()
            if id(n) in seen:
                continue
            seen.add(id(n))
            if d < rank.get(id(n), 1 << 30):
                rank[id(n)] = d
            for m in step(n):
                if id(m) in inside and id(m) not in seen:
                    queue.append((m, d + 1))

    bfs(sources, lambda n: kids.get(id(n), ()))
    bfs(outputs, lambda n: n.parents)
    return rank
