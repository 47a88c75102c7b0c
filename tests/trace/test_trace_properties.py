"""Graph invariants on random DAGs built with operators (hypothesis)."""

from __future__ import annotations

from itertools import pairwise

from hypothesis import given, settings
from hypothesis import strategies as st

import optotrace as ot
from optotrace.trace import Node, ancestors, subgraph

# Each step: (operation, index of the first operand, index of the second) among the nodes built so far.
_steps = st.lists(st.tuples(st.sampled_from(["add", "sub", "neg", "max", "const"]), st.integers(0, 10**6),
                            st.integers(0, 10**6)), min_size=1, max_size=40)


@ot.bundle
def bigger(a, b):
    return max(a, b)


def _build(n_leaves: int, trainable: list[bool], steps) -> list[Node]:
    nodes: list[Node] = [ot.node(i, name=f"leaf{i}", trainable=t) for i, t in enumerate(trainable[:n_leaves])]
    for op, i, j in steps:
        a, b = nodes[i % len(nodes)], nodes[j % len(nodes)]
        if op == "add":
            nodes.append(a + b)
        elif op == "sub":
            nodes.append(a - 3)
        elif op == "neg":
            nodes.append(-a)
        elif op == "max":
            nodes.append(bigger(a, b))
        else:
            nodes.append(7 + a)
    return nodes


def _upstream(output: Node) -> set[Node]:
    seen, todo = {output}, [output]
    while todo:
        for p in todo.pop().parents:
            if p not in seen:
                seen.add(p)
                todo.append(p)
    return seen


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 5), st.lists(st.booleans(), min_size=5, max_size=5), _steps, st.integers(0, 10**6))
def test_graph_invariants(n_leaves, trainable, steps, pick) -> None:
    nodes = _build(n_leaves, trainable, steps)
    everything = set().union(*(_upstream(n) for n in nodes))
    for n in everything:  # parents and children agree
        for p in n.parents:
            assert any(c is n for c in p.children)
        for c in n.children:
            assert any(p is n for p in c.parents)
    output = nodes[pick % len(nodes)]
    up = _upstream(output)
    order = ancestors(output)
    assert set(order) == up
    position = {n: i for i, n in enumerate(order)}
    assert all(position[p] < position[n] for n in order for p in n.parents)  # topological
    params = {n for n in up if n.kind == "parameter"}
    sub = subgraph(output)
    assert all(position[a] < position[b] for a, b in pairwise(sub))
    for n in nodes:
        n.zero_feedback()
    output.backward("fb")
    reached = {n for n in everything if n.feedback}
    assert reached == params  # backward reaches exactly the parameters upstream of the output
    for p in params:
        s = p.feedback[0].subgraph
        assert s[0] is p and s[-1] is output and set(s) <= up
        for n in s[1:]:  # every node of a parameter's subgraph descends from the parameter
            assert p in _upstream(n)
        for n in up - set(s):  # minimal and complete: nodes left out are not between p and output
            assert p not in _upstream(n) or n is p
        sub_set = set(sub)
        assert set(s) <= sub_set
    assert set(sub) == set().union(*(set(p.feedback[0].subgraph) for p in params)) if params else sub == []
