"""Operators on nodes: each records a MessageNode with its node inputs as parents."""

from __future__ import annotations

import operator

import pytest

import optotrace as ot
from optotrace.trace import ExceptionNode, ExecutionError, MessageNode, Node


@pytest.mark.parametrize(("op", "name"), [
    (operator.add, "add"), (operator.sub, "sub"), (operator.mul, "mul"), (operator.truediv, "truediv"),
    (operator.floordiv, "floordiv"), (operator.mod, "mod"), (operator.pow, "pow"), (operator.and_, "and"),
    (operator.or_, "or"), (operator.xor, "xor"), (operator.lt, "lt"), (operator.le, "le"),
    (operator.gt, "gt"), (operator.ge, "ge"),
])
def test_binary_operators_and_reflections(op, name) -> None:
    a, b = ot.node(7, name="a"), ot.node(3, name="b")
    for out in (op(a, b), op(a, 3)):
        assert isinstance(out, MessageNode) and out.data == op(7, 3)
        assert out.op_name == name and out.op_description.startswith(f"[{name}] a ")
        assert out.op_signature == f"{name}(a, b)" and list(out.inputs) == ["a", "b"]
        assert out.code_parameter is None
    reflected = op(7, b)
    assert reflected.data == op(7, 3)
    if name in ("lt", "le", "gt", "ge"):  # Python turns `7 < b` into `b > 7`
        return
    assert reflected.inputs["b"] is b and reflected.inputs["a"].data == 7  # the constant is a node too
    assert reflected.parents == [reflected.inputs["a"], b]


def test_matmul() -> None:
    class M:
        def __matmul__(self, other):
            return "mm"

        def __rmatmul__(self, other):
            return "rmm"

    assert (ot.node(M()) @ 1).data == "mm" and (1 @ ot.node(M())).data == "rmm"


def test_unary_operators() -> None:
    a = ot.node(-5)
    for out, value, name in ((-a, 5, "neg"), (+a, -5, "pos"), (abs(a), 5, "abs"), (~a, 4, "invert")):
        assert out.data == value and out.op_name == name and out.parents == [a]


def test_traced_equality_methods_and_plain_operators() -> None:
    a = ot.node(2)
    assert a.eq(2).data is True and a.ne(2).data is False and a.eq(ot.node(3)).data is False
    assert isinstance(a.eq(2), MessageNode) and (a == 2) is True


def test_indexing_and_attribute_access_and_calls() -> None:
    xs = ot.node([10, 20, 30], name="xs")
    first = xs[0]
    assert first.data == 10 and first.op_name == "getitem" and first.inputs["a"] is xs
    assert xs[1:].data == [20, 30]
    c = ot.node(3 + 4j)
    assert c.getattr("imag").data == 4.0
    assert c.name and c.getattr("real").op_name == "getattr"  # Node's own attributes stay intact
    f = ot.node(lambda x, y=1: x * y)
    assert f(3, y=ot.node(2)).data == 6 and f.call(4).data == 4
    assert set(f(3, y=2).inputs) == {"a", "arg0", "y"}
    with pytest.raises(TypeError, match="not callable"):
        ot.node(3)()


def test_string_methods() -> None:
    s = ot.node("  Hello, {} ")
    assert s.strip().data == "Hello, {}" and s.upper().data == "  HELLO, {} " and s.lower().op_name == "lower"
    assert s.strip().format(ot.node("you")).data == "Hello, you"
    assert s.split(",").data == ["  Hello", " {} "] and s.replace("Hello", "Bye").data == "  Bye, {} "
    assert ot.node("-").join(["a", "b"]).data == "a-b"
    joined = ot.node("-").join([ot.node("a"), "b"])  # nodes inside a list argument become inputs
    assert joined.data == "a-b" and "arg0[0]" in joined.inputs
    assert s.strip().startswith("Hello").data is True and s.endswith("x").data is False
    assert s.len().data == 12 and s.count("l").data == 2 and s.find("H").data == 2
    assert s.lstrip().data == "Hello, {} " and s.rstrip().data == "  Hello, {}"


def test_container_methods_are_pure() -> None:
    d = ot.node({"a": 1, "b": 2})
    assert d.keys().data == ["a", "b"] and d.values().data == [1, 2] and d.items().data == [("a", 1), ("b", 2)]
    assert d.get("c", 0).data == 0 and d.update({"c": 3}).data == {"a": 1, "b": 2, "c": 3}
    assert d.with_item("a", 9).data == {"a": 9, "b": 2} and d.data == {"a": 1, "b": 2}
    xs = ot.node([1, 2])
    assert xs.append(3).data == [1, 2, 3] and xs.extend((3, 4)).data == [1, 2, 3, 4]
    assert xs.insert(0, 0).data == [0, 1, 2] and xs.index(2).data == 1 and xs.data == [1, 2]
    assert ot.node((1,)).append(2).data == (1, 2)
    assert xs.contains(2).data is True and xs.len().data == 2


def test_iteration_yields_traced_items() -> None:
    xs = ot.node([1, 2, 3], name="xs")
    items = list(xs)
    assert [i.data for i in items] == [1, 2, 3] and all(i.op_name == "getitem" and i.parents[0] is xs for i in items)
    d = ot.node({"a": 1, "b": 2})
    keys = list(d)
    assert [k.data for k in keys] == ["a", "b"] and all(isinstance(k, MessageNode) for k in keys)
    assert [v.data for v in (d[k] for k in keys)] == [1, 2]
    assert [c.data for c in ot.node("ab")] == ["a", "b"]
    assert sorted(i.data for i in ot.node({3, 1})) == [1, 3]
    for a, b in ot.node([(1, 2)]):
        assert (a.data, b.data) == (1, 2)


def test_a_failing_operator_records_an_exception_node() -> None:
    a = ot.node(1, name="a", trainable=True)
    with pytest.raises(ExecutionError) as info:
        a + "x"
    error = info.value.exception_node
    assert isinstance(error, ExceptionNode) and error.kind == "exception"
    assert isinstance(error.exception, TypeError) and isinstance(info.value.__cause__, TypeError)
    assert error.data.startswith("TypeError") and "add(a, b)" in error.data and error.inputs["a"] is a
    error.backward("do not add strings to numbers")
    assert a.feedback[0].feedback == "do not add strings to numbers"


def test_sorting_nodes_uses_traced_comparisons() -> None:
    values = [ot.node(v) for v in (3, 1, 2)]
    assert [v.data for v in sorted(values)] == [1, 2, 3]


def test_operators_under_stop_tracing_return_plain_values() -> None:
    a = ot.node(2)
    with ot.stop_tracing():
        assert a + 1 == 3 and not isinstance(a + 1, Node)
        assert list(ot.node([1, 2])) == [1, 2] and list(ot.node({"k": 1})) == ["k"]
        assert ot.node("a").upper() == "A"


def test_shift_rounding_and_divmod_operators() -> None:
    import math

    a = ot.node(6, name="a")
    cases = [(a << 2, 24, "lshift"), (a >> 1, 3, "rshift"), (1 << a, 64, "lshift"), (64 >> a, 1, "rshift"),
             (divmod(a, 4), (1, 2), "divmod"), (divmod(20, a), (3, 2), "divmod")]
    f = ot.node(2.567, name="f")
    cases += [(round(f), 3, "round"), (round(f, 1), 2.6, "round"), (math.floor(f), 2, "floor"),
              (math.ceil(f), 3, "ceil"), (math.trunc(-f), -2, "trunc")]
    for out, value, name in cases:
        assert isinstance(out, MessageNode) and out.data == value and out.op_name == name
    assert a in (a << 2).parents and f in round(f, 1).parents


def test_clone_is_traced_and_detach_is_not() -> None:
    p = ot.node(["x"], name="p", trainable=True)
    c = p.clone()
    assert isinstance(c, MessageNode) and c.parents == [p] and c.data == ["x"] and c.data is not p.data
    d = p.detach()
    assert d.parents == [] and d.id != p.id and d.data == ["x"] and d.data is not p.data
    assert ot.node("Ab").swapcase().data == "aB"
