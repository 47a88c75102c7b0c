"""backward(): which parameters receive feedback, their subgraphs, propagators, accumulation."""

from __future__ import annotations

import sys

import optotrace as ot
from optotrace.trace import FeedbackItem, GraphPropagator, Propagator, SumPropagator, subgraph, union_subgraph


def test_every_parameter_upstream_gets_feedback_and_its_minimal_subgraph() -> None:
    a = ot.node(1, name="a", trainable=True)
    b = ot.node(2, name="b", trainable=True)
    unrelated = ot.node(9, name="unrelated", trainable=True)
    c = ot.node(3, name="c")
    ab = a + b
    out = ab * c
    side = unrelated + 1
    out.backward("too small")
    assert [type(i) for i in a.feedback] == [FeedbackItem] and unrelated.feedback == [] and c.feedback == []
    item = a.feedback[0]
    assert item.output is out and item.feedback == "too small" and item.outputs == (out,)
    assert item.subgraph == [a, ab, out]  # c and b are not on a path from a
    assert b.feedback[0].subgraph == [b, ab, out] and side.data == 10
    assert subgraph(out) == [a, b, ab, out] and subgraph(c) == []
    assert union_subgraph([a, b]) == [a, b, ab, out] and union_subgraph([]) == []


def test_feedback_accumulates_over_outputs_and_zero_feedback_clears() -> None:
    a = ot.node(1, name="a", trainable=True)
    y1, y2 = a + 1, a * 3
    y1.backward("first")
    y2.backward(0.5)
    assert [i.feedback for i in a.feedback] == ["first", 0.5] and [i.output for i in a.feedback] == [y1, y2]
    assert union_subgraph([a]) == [a, y1, y2]
    a.zero_feedback()
    assert a.feedback == []


def test_feedback_on_an_inner_node_and_on_a_parameter_itself() -> None:
    a = ot.node(1, name="a", trainable=True)
    b = ot.node(1, name="b", trainable=True)
    inner = a + 1
    inner * b
    inner.backward("inner is wrong")
    assert a.feedback[0].subgraph == [a, inner] and b.feedback == []
    a.zero_feedback()
    a.backward("directly")
    assert a.feedback[0].subgraph == [a] and a.feedback[0].output is a


def test_no_parameter_upstream_is_not_an_error() -> None:
    x = ot.node(1)
    (x + 1).backward("nothing to do")
    ot.node("alone").backward("fine")


def test_frozen_parameters_receive_nothing() -> None:
    p = ot.node(1, trainable=True)
    p.trainable = False
    (p + 1).backward("x")
    assert p.feedback == []


def test_a_ten_thousand_operation_chain_needs_no_recursion() -> None:
    a = ot.node(0, name="a", trainable=True)
    y = a
    for _ in range(10_000):
        y = y + 1
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(200)
    try:
        y.backward("deep")
        sub = a.feedback[0].subgraph
        assert len(sub) == 10_001 and sub[0] is a and sub[-1] is y
        assert len(subgraph(y)) == 10_001 and len(union_subgraph([a])) == 10_001
    finally:
        sys.setrecursionlimit(limit)


def test_sum_propagator_aggregates_numbers_and_text() -> None:
    a = ot.node(1.0, name="a", trainable=True)
    b = ot.node(1.0, name="b", trainable=True)
    y1, y2 = a * 2, a + b
    summing = SumPropagator()
    y1.backward(1.5, summing)
    y2.backward(2.0, propagator=summing)
    assert len(a.feedback) == 1 and a.feedback[0].feedback == 3.5 and a.feedback[0].outputs == (y1, y2)
    assert a.feedback[0].output is y2 and a.feedback[0].subgraph == [a, y1, y2]
    assert b.feedback[0].feedback == 2.0
    t = ot.node("p", name="t", trainable=True)
    (t + "1").backward("too long", summing)
    (t + "2").backward("too vague", summing)
    assert t.feedback[0].feedback == "too long\ntoo vague"
    assert SumPropagator(separator=" | ").combine("x", 2) == "x | 2" and summing.combine([1], [2]) == [1, 2]


def test_custom_propagators_plug_in() -> None:
    class Tagging(Propagator):
        def transform(self, param, feedback, upstream):
            return f"{param.name}: {feedback} ({len(upstream.nodes)} nodes upstream)"

    class Recording:
        def __init__(self) -> None:
            self.calls = []

        def propagate(self, output, feedback):
            self.calls.append((output, feedback))

    a = ot.node(1, name="a", trainable=True)
    y = a + 1
    y.backward("fb", Tagging())
    assert a.feedback[0].feedback == "a: fb (3 nodes upstream)"
    recorder = Recording()
    y.backward("raw", recorder)
    assert recorder.calls == [(y, "raw")] and len(a.feedback) == 1
    assert isinstance(GraphPropagator(), Propagator)


def test_feedback_passes_through_code_parameters() -> None:
    @ot.bundle(trainable=True)
    def step(x):
        return x + 1

    p = ot.node(1, name="p", trainable=True)
    y = step(step(p))
    y.backward("ok")
    code = step.parameter
    assert len(code.feedback) == 1 and code.feedback[0].subgraph[0] is code and code.feedback[0].subgraph[-1] is y
    assert len(code.feedback[0].subgraph) == 3
