"""Graph walks, all iterative and linear in the number of nodes visited.

Node ids increase in creation order and a parent always exists before its children, so sorting nodes by id
is a topological order (and a readable one: the order in which the program ran).
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from optotrace.trace.nodes import Node, ParameterNode


def ancestors(output: Node) -> list[Node]:
    """`output` and every node upstream of it, topologically ordered."""
    seen = {output}
    stack = [output]
    while stack:
        for parent in stack.pop().parents:
            if parent not in seen:
                seen.add(parent)
                stack.append(parent)
    return sorted(seen, key=_node_id)


def _node_id(n: Node) -> int:
    return n.id


class Upstream:
    """The ancestors of one output, computed once per backward call and shared by its feedback items."""

    __slots__ = ("output", "nodes", "_ids")

    def __init__(self, output: Node) -> None:
        self.output = output
        self.nodes = ancestors(output)
        self._ids: list[int] | None = None

    def _repr_svg_(self) -> str | None:  # Jupyter shows the output's graph
        return self.output._repr_svg_()

    def _repr_html_(self) -> str:
        return self.output._repr_html_()

    def parameters(self) -> list[ParameterNode]:
        """The trainable parameters among the ancestors (the output itself included)."""
        return [n for n in self.nodes if n.kind == "parameter" and n.trainable]  # type: ignore[misc]

    def paths_from(self, sources: Iterable[Node]) -> list[Node]:
        """The nodes on paths from any of `sources` to the output, both ends included, in topological order:
        one forward pass marking the nodes that have a marked parent."""
        marked = set(sources)
        if not marked:
            return []
        if self._ids is None:
            self._ids = [n.id for n in self.nodes]
        start = bisect_left(self._ids, min(s.id for s in marked))
        out: list[Node] = []
        for n in self.nodes[start:]:
            if n in marked:
                out.append(n)
                continue
            for parent in n.parents:
                if parent in marked:
                    marked.add(n)
                    out.append(n)
                    break
        return out  # every node here is an ancestor of the output, so each marked one reaches it


def subgraph(output: Node) -> list[Node]:
    """The nodes on paths from the trainable parameters upstream of `output` to `output`, topologically
    ordered ([] when no parameter is upstream)."""
    upstream = Upstream(output)
    return upstream.paths_from(upstream.parameters())


def union_subgraph(params: Iterable[ParameterNode]) -> list[Node]:
    """The union of the subgraphs of every feedback item of `params`, topologically ordered: what an
    optimizer shows the model. One forward pass per distinct backward call."""
    sources: dict[int, tuple[Upstream, set[Node]]] = {}
    for p in params:
        for item in p.feedback:
            for upstream in item.upstreams:
                sources.setdefault(id(upstream), (upstream, set()))[1].add(p)
    union: set[Node] = set()
    for upstream, starts in sources.values():
        union.update(upstream.paths_from(starts))
    return sorted(union, key=_node_id)
