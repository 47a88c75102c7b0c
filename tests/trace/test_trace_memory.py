"""A finished step's graph is freed: nodes hold their children weakly, feedback is released by zero_feedback."""

from __future__ import annotations

import gc
import weakref

import pytest

import optotrace as ot
from optotrace.trace import ExecutionError


@ot.bundle(trainable=True)
def step(x):
    return x + 1


def _one_step(p: ot.Node) -> weakref.ref:
    y = p
    for _ in range(10):
        y = step(y) * 2
    y.backward("feedback")
    return weakref.ref(y)


def test_graphs_are_freed_after_zero_feedback_and_memory_stays_flat() -> None:
    p = ot.node(1, name="p", trainable=True)
    gc.collect()
    gc.disable()  # refcounting alone must free every step's graph: no reference cycles
    try:
        for _ in range(300):
            ref = _one_step(p)
            assert ref() is not None  # the feedback keeps this step's graph alive ...
            p.zero_feedback()
            step.parameter.zero_feedback()
            assert ref() is None  # ... until zero_feedback
        assert len(p._children) < 64 and len(step.parameter._children) < 64  # dead child refs are pruned
        assert p.children == [] and step.parameter.children == []
    finally:
        gc.enable()


def test_an_exception_node_is_freed_too() -> None:
    p = ot.node(0, name="p", trainable=True)
    refs = []
    for _ in range(20):
        with pytest.raises(ExecutionError) as info:
            1 / p
        refs.append(weakref.ref(info.value.exception_node))
        del info
    gc.collect()
    assert all(r() is None for r in refs) and p.children == []
