"""node(), the node kinds, equality and hashing, parents and children."""

from __future__ import annotations

import pytest

import optotrace as ot
from optotrace.errors import OptotraceError
from optotrace.trace import ExecutionError, MessageNode, Node, ParameterNode, unique_names


def test_node_wraps_values_and_parameters() -> None:
    x = ot.node(3.0, name="x", description="a number")
    assert type(x) is Node and x.kind == "value" and not x.trainable
    assert (x.data, x.name, x.description, x.parents, x.children, x.feedback) == (3.0, "x", "a number", [], [], [])
    p = ot.node("prompt", name="p", trainable=True, constraint="short")
    assert isinstance(p, ParameterNode) and p.kind == "parameter" and p.trainable
    assert p.constraint == "short" and not p.is_code and p.code_name is None and p.code_signature is None
    assert ot.node(p) is p and ot.node(p, trainable=True) is p


def test_trainable_node_of_an_existing_node_is_a_new_parameter() -> None:
    x = ot.node(3.0, name="x", description="a number")
    p = ot.node(x, trainable=True)
    assert isinstance(p, ParameterNode) and p.trainable and p is not x and not x.trainable
    assert (p.data, p.name, p.description, p.parents) == (3.0, "x", "a number", [])
    named = ot.node(x, name="step", trainable=True, description="step size", constraint="positive")
    assert (named.name, named.description, named.constraint) == ("step", "step size", "positive")
    y = x * 2  # a computed value becomes a fresh root: the graph that made it is not linked
    q = ot.node(y, trainable=True)
    assert q.data == 6.0 and q.parents == [] and q.name == "mul"
    (q + 1).backward("smaller")
    assert len(q.feedback) == 1
    frozen = ot.node(1, trainable=True)
    frozen.trainable = False
    assert ot.node(frozen, trainable=True) is not frozen and ot.node(frozen, trainable=True).trainable


def test_trainable_node_of_a_parameter_with_new_attributes_is_refused() -> None:
    p = ot.node("prompt", name="p", trainable=True)
    assert ot.node(p, trainable=True, name="p") is p
    with pytest.raises(ValueError, match="already a trainable parameter"):
        ot.node(p, trainable=True, name="other")
    with pytest.raises(ValueError, match="already a trainable parameter"):
        ot.node(p, trainable=True, constraint="short")
    with pytest.raises(ValueError, match="trainable=True"):
        ot.node(ot.node(1), constraint="positive")
    x = ot.node(1, name="x")
    with pytest.warns(UserWarning, match="returns the node unchanged"):
        assert ot.node(x, name="y") is x
    assert x.name == "x" and ot.node(x, name="x") is x


def test_default_name_is_the_type_and_ids_increase() -> None:
    a, b = ot.node(1), ot.node("s")
    assert (a.name, b.name) == ("int", "str") and a.id < b.id


def test_constraint_without_trainable_is_refused() -> None:
    with pytest.raises(ValueError, match="trainable=True"):
        ot.node(1, constraint="positive")


def test_a_node_cannot_hold_a_node() -> None:
    with pytest.raises(TypeError, match="node"):
        Node(ot.node(1))


def test_set_and_check() -> None:
    p = ot.node(1.0, trainable=True, constraint=lambda v: v > 0 or "must be positive")
    p.set(2.5)
    assert p.data == 2.5
    p.set(ot.node(4.0))
    assert p.data == 4.0
    assert p.check(3.0) is None and p.check(-1.0) == "must be positive"
    q = ot.node(1.0, name="q", trainable=True, constraint=lambda v: v > 0)
    assert "violates" in q.check(-2.0)
    r = ot.node(1.0, name="r", trainable=True, constraint=lambda v: 1 / 0)
    assert "ZeroDivisionError" in r.check(1.0)
    assert ot.node(1, trainable=True, constraint="text only").check(5) is None


def test_equality_is_plain_and_hash_is_identity() -> None:
    a, b = ot.node(1), ot.node(1)
    assert a == 1 and a != 2 and (a == "1") is False
    assert a != b and a == a  # node against node: identity
    assert b not in [a] and a in [b, a]
    assert len({a, b}) == 2 and {a: "x"}[a] == "x"
    assert bool(ot.node(0)) is False and len(ot.node([1, 2])) == 2 and 2 in ot.node([1, 2])


def test_parents_and_children_agree() -> None:
    a, b = ot.node(1), ot.node(2)
    c = a + b
    assert isinstance(c, MessageNode) and c.parents == [a, b] and a.children == [c] and b.children == [c]
    d = a + a
    assert d.parents == [a] and a.children == [c, d]


def test_repr_previews_long_values() -> None:
    text = repr(ot.node("x" * 500, name="long"))
    assert text.startswith("Node(name='long'") and len(text) < 150


def test_execution_error_is_an_optotrace_error() -> None:
    assert issubclass(ExecutionError, OptotraceError)


def test_unique_names_suffixes_only_collisions() -> None:
    a, b, c, d = (ot.node(1, name=n) for n in ("x", "x", "y", "x_2"))
    names = unique_names([a, b, c, d, a])
    assert names == {a: "x", b: "x_3", c: "y", d: "x_2"}
    assert unique_names([c]) == {c: "y"}


def test_importing_trace_loads_no_heavy_library() -> None:
    import subprocess
    import sys

    code = ("import sys, optotrace.trace; heavy = {'networkx', 'torch', 'pydantic', 'numpy', 'litellm'}; "
            "print(sorted(heavy & set(sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    assert out.stdout.strip() == "[]"
