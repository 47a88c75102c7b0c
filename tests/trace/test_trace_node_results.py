"""Operators whose result is a stored node (or holds nodes): the node comes back connected to the graph."""

from __future__ import annotations

from collections import deque

import pytest

import optotrace as ot
from optotrace.trace import ExecutionError, MessageNode, Node, ancestors, subgraph


class Agent:
    def __init__(self) -> None:
        self.prompt = ot.node("hi", name="prompt", trainable=True)


def _reaches(output: Node, param: Node) -> bool:
    output.backward("more detail")
    return bool(param.feedback) and param.feedback[-1].feedback == "more detail" and param in subgraph(output)


def test_getattr_returning_a_parameter_is_connected() -> None:
    agent = ot.node(Agent(), name="agent")
    prompt = agent.data.prompt
    got = agent.getattr("prompt")
    assert isinstance(got, MessageNode) and got.data == "hi" and not isinstance(got.data, Node)
    assert agent in got.parents and prompt in got.parents
    assert _reaches(got + "!", prompt)


def test_getitem_slices_and_dict_access() -> None:
    p, q = ot.node(1, name="p", trainable=True), ot.node(2, name="q", trainable=True)
    xs = ot.node([p, q], name="xs")
    first = xs[0]
    assert first.data == 1 and p in first.parents and q not in first.parents
    assert _reaches(first * 3, p) and not q.feedback
    part = xs[0:2]  # a slice holds both nodes: each is a parent
    assert part.parents[0] is xs and p in part.parents and q in part.parents
    d = ot.node({"a": p, "b": [q]}, name="d")
    assert d["a"].data == 1 and p in d["a"].parents
    assert d.get("a").data == 1 and p in d.get("a").parents
    nested = d["b"]
    assert nested.data == [q] and q in nested.parents
    assert q in ancestors(nested[0]) and nested[0].data == 2
    values = d.values()
    assert p in values.parents and q in values.parents


def test_iteration_over_nodes_yields_connected_items() -> None:
    p = ot.node("a", name="p", trainable=True)
    items = list(ot.node([p, "plain"]))
    assert [i.data for i in items] == ["a", "plain"] and all(isinstance(i, MessageNode) for i in items)
    assert p in items[0].parents and p not in items[1].parents
    assert _reaches(items[0].upper(), p)
    keyed = list(ot.node({"k": p}).items())
    assert keyed[0].data == ("k", p) and p in keyed[0].parents


def test_call_returning_a_node_or_nodes() -> None:
    p = ot.node(5, name="p", trainable=True)
    out = ot.node(lambda: p)()
    assert out.data == 5 and p in out.parents
    assert _reaches(out + 1, p)
    pair = ot.node(lambda: (p, 1), name="f").call()
    assert pair.data == (p, 1) and p in pair.parents
    inner = ot.node(1)
    made = ot.node(lambda: inner)()  # a fresh, non-trainable node also comes back connected
    assert made.data == 1 and inner in made.parents


def test_result_node_that_is_also_an_input_is_listed_once() -> None:
    p = ot.node(3, name="p", trainable=True)
    out = ot.node(lambda x: x).call(p)
    assert out.data == 3 and out.parents.count(p) == 1 and list(out.inputs.values()).count(p) == 1


def test_other_containers_holding_nodes() -> None:
    p = ot.node(1, name="p", trainable=True)
    for container in ({p}, frozenset({p}), deque([p])):
        got = ot.node(lambda c=container: c)()
        assert p in got.parents, type(container)


def test_untraced_operators_return_plain_values() -> None:
    p = ot.node(7, trainable=True)
    with ot.stop_tracing():
        got = ot.node([p])[0]
        called = ot.node(lambda: p)()
    assert got == 7 and not isinstance(got, Node) and called == 7 and not isinstance(called, Node)


def test_failures_inside_operators_are_execution_errors() -> None:
    with pytest.raises(ExecutionError) as info:
        ot.node([ot.node(1)])[5]
    assert isinstance(info.value.exception, IndexError)
    with pytest.raises(ExecutionError):
        ot.node(Agent()).getattr("missing")


GLOBAL_PARAMETER = ot.node(5, name="global", trainable=True)


@ot.bundle
def pick(xs):
    return xs[0]


@ot.bundle
def first_plus_one(xs):
    return xs["k"][0].data + 1


@ot.bundle
def head(xs):
    return xs[:1]


@ot.bundle
def leak(x):
    return [GLOBAL_PARAMETER]


def test_bundled_functions_using_nodes_held_in_their_arguments() -> None:
    p = ot.node(1, name="p", trainable=True)
    out = pick(ot.node([p, 2], name="xs"))
    assert out.data == 1 and out.inputs["xs[0]"] is p and p in out.parents
    assert _reaches(out, p)
    read = first_plus_one(ot.node({"k": [p]}))
    assert read.data == 2 and read.inputs["xs['k'][0]"] is p
    sliced = head(ot.node([p, 3]))
    assert sliced.data == [p] and p in sliced.parents
    with pytest.raises(ExecutionError, match="without receiving them as arguments"):
        leak(1)  # a node that was not passed in, even inside an argument, is still an external dependency
