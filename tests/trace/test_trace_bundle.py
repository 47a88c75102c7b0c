"""@bundle: recording calls, trainable code, failures, async functions and methods."""

from __future__ import annotations

import asyncio

import pytest

import optotrace as ot
from optotrace.trace import (
    CodeUpdateError,
    ExceptionNode,
    ExecutionError,
    ExternalDependencyError,
    MessageNode,
)

OFFSET = 100


@ot.bundle
def add(a, b):
    """Add two numbers."""
    return a + b


@ot.bundle(trainable=True)
def policy(obs, k=2):
    y = obs * k
    return y + 1


@ot.bundle(trainable=True)
def shifted(x):
    return x + OFFSET


@ot.bundle(trainable=True)
def divide(a, b):
    q = a / b
    return q


def test_a_call_records_a_message_node() -> None:
    x = ot.node(1, name="x")
    y = add(x, 2)
    assert isinstance(y, MessageNode) and y.data == 3 and y.name == "add" and y.op_name == "add"
    assert y.op_description == "[add] Add two numbers." and y.op_signature == "add(a, b)"
    assert list(y.inputs) == ["a", "b"] and y.inputs["a"] is x and y.inputs["b"].data == 2
    assert y.parents == [x, y.inputs["b"]] and y.code_parameter is None and add.parameter is None
    assert add(a=x, b=x).parents == [x]
    assert add.__name__ == "add" and add.__doc__ == "Add two numbers."


def test_decorator_forms_and_descriptions() -> None:
    def f(a, *rest, **options):
        return a + sum(rest) + sum(options.values())

    for wrapped in (ot.bundle(f), ot.bundle()(f), ot.bundle("[f] adds things")(f), ot.bundle(description="sums")(f)):
        y = wrapped(1, 2, ot.node(3), z=4)
        assert y.data == 10 and list(y.inputs) == ["a", "rest[0]", "rest[1]", "z"]
    assert ot.bundle("[f] adds things")(f)(1).op_description == "[f] adds things"
    assert ot.bundle(description="sums")(f)(1).op_description == "[f] sums"
    assert ot.bundle(f)(1).op_signature == "f(a, *rest, **options)"


def test_nested_bundled_calls_and_returned_nodes_are_plain_inside() -> None:
    @ot.bundle
    def outer(a):
        inner = add(a, 1)
        assert not isinstance(inner, ot.Node)
        return inner

    assert outer(ot.node(1)).data == 2


def test_trainable_code_parameter() -> None:
    p = policy.parameter
    assert p.is_code and p.trainable and p.code_name == "policy" and p.code_signature == "(obs, k=2)"
    assert p.data.startswith("def policy(obs, k=2):") and "@ot.bundle" not in p.data
    x = ot.node(3.0, name="x", trainable=True)
    y = policy(x)
    assert y.data == 7.0 and y.code_parameter is p and y.parents == [x, p]


def test_new_source_runs_compiled_once_per_value() -> None:
    original = policy.parameter.data
    try:
        policy.parameter.set("def policy(obs, k=2):\n    return obs - k\n")
        assert policy(10).data == 8
        first = policy._version().fn
        assert policy(5).data == 3 and policy._version().fn is first
        policy.parameter.set("def policy(obs, k=2):\n    return obs - k\n" + "")  # equal text, new object
        assert policy._version().fn is first
        policy.parameter.set("@ot.bundle(trainable=True)\ndef policy(obs, k=2):\n    return helper(obs)\n\n"
                             "def helper(v):\n    return -v\n")
        assert policy(4).data == -4  # the decorator line is ignored; helpers of the new code are visible
        policy.parameter.set(original)
        assert policy(3.0).data == 7.0 and policy._version().fn is policy.fn
    finally:
        policy.parameter.set(original)


def test_new_source_sees_module_globals_and_closures() -> None:
    original = shifted.parameter.data
    try:
        shifted.parameter.set("def shifted(x):\n    return x + 2 * OFFSET\n")
        assert shifted(1).data == 201
    finally:
        shifted.parameter.set(original)
    scale = 10

    @ot.bundle(trainable=True)
    def scaled(x):
        return x * scale

    assert scaled.parameter.data.startswith("def scaled(x):")  # dedented
    scaled.parameter.set("def scaled(x):\n    return x * scale + 1\n")
    assert scaled(2).data == 21


@pytest.mark.parametrize(("source", "message"), [
    ("def policy(obs, k=2):\n    return obs +\n", "syntax error at line 2"),
    ("def policy(obs):\n    return obs\n", "changed its signature to policy(obs); it must keep policy(obs, k=2)"),
    ("def other(obs, k=2):\n    return obs\n", "must define a function named 'policy'"),
    ("async def policy(obs, k=2):\n    return obs\n", "must stay a plain (not async) function"),
    ("raise RuntimeError('boom')\ndef policy(obs, k=2):\n    return obs\n", "raised RuntimeError: boom"),
    (42, "must hold source text (str), not int"),
])
def test_unusable_new_source_gives_an_exception_node(source, message) -> None:
    original = policy.parameter.data
    x = ot.node(1.0, name="x", trainable=True)
    try:
        policy.parameter.set(source)
        for _ in range(2):  # cached failure, raised afresh each time
            with pytest.raises(ExecutionError, match="CodeUpdateError") as info:
                policy(x)
            node = info.value.exception_node
            assert isinstance(node, ExceptionNode) and isinstance(node.exception, CodeUpdateError)
            assert message in node.data and node.code_parameter is policy.parameter
        node.backward("the code must compile")
        assert policy.parameter.feedback[-1].feedback == "the code must compile"
        assert x.feedback[-1].subgraph == [x, node]
        if isinstance(source, str) and "+\n" in source:
            assert "-->     return obs +" in node.data
    finally:
        policy.parameter.set(original)
        policy.parameter.zero_feedback()


def test_a_failing_call_is_annotated_and_backpropagates() -> None:
    a = ot.node(1.0, name="a", trainable=True)
    with pytest.raises(ExecutionError) as info:
        divide(a, 0)
    error = info.value.exception_node
    assert isinstance(info.value.exception, ZeroDivisionError) and isinstance(info.value.__cause__, ZeroDivisionError)
    assert error.data.startswith("ZeroDivisionError: ") and "in divide(a, b)" in error.data
    assert "-->     q = a / b" in error.data and "    return q" in error.data and "inputs: a=1.0, b=0" in error.data
    assert error.inputs["a"] is a and error in a.children and divide.parameter in error.parents
    error.backward("b must not be zero")
    assert a.feedback[0].feedback == "b must not be zero" and divide.parameter.feedback[0].output is error
    divide.parameter.zero_feedback()


def test_failure_in_new_source_is_annotated_in_that_source() -> None:
    original = divide.parameter.data
    try:
        divide.parameter.set("def divide(a, b):\n    x = 1\n    return x / (a - a)\n")
        with pytest.raises(ExecutionError) as info:
            divide(2.0, 1.0)
        assert "-->     return x / (a - a)" in info.value.exception_node.data
    finally:
        divide.parameter.set(original)


def test_wrong_arguments_are_recorded_too() -> None:
    with pytest.raises(ExecutionError) as info:
        add(1, 2, 3)
    assert "TypeError" in str(info.value) and "before the body ran" in str(info.value)


def test_catch_execution_error_false_raises_the_original() -> None:
    @ot.bundle(catch_execution_error=False, trainable=True)
    def fragile(a):
        return 1 / a

    with pytest.raises(ZeroDivisionError):
        fragile(0)
    fragile.parameter.set("def fragile(a):\n    return (\n")
    with pytest.raises(CodeUpdateError, match="syntax error"):
        fragile(1)


def test_external_dependencies() -> None:
    hidden = ot.node(5, name="hidden", trainable=True)

    @ot.bundle
    def strict(a):
        return a + hidden.data

    @ot.bundle(allow_external_dependencies=True)
    def lenient(a):
        return a + hidden.data

    with pytest.raises(ExecutionError, match="'hidden'") as info:
        strict(1)
    assert isinstance(info.value.exception, ExternalDependencyError)
    y = lenient(1)
    assert y.data == 6 and hidden in y.parents and y.external == (hidden,) and list(y.inputs) == ["a"]
    y.backward("ok")
    assert hidden.feedback[0].feedback == "ok"

    @ot.bundle
    def makes_its_own(a):
        return ot.node(a).data + 1  # a node created inside the call is not a dependency

    assert makes_its_own(1).data == 2


def test_stop_tracing_returns_plain_values() -> None:
    x = ot.node(2)
    with ot.stop_tracing():
        assert add(x, 1) == 3 and policy(x) == 5
        with pytest.raises(ZeroDivisionError):
            divide(1, 0)
    assert isinstance(add(x, 1), MessageNode)


@ot.bundle(trainable=True)
async def fetch(a, delay=0.0):
    await asyncio.sleep(delay)
    return a * 2


async def test_async_functions() -> None:
    x = ot.node(2, name="x", trainable=True)
    y = await fetch(x)
    assert isinstance(y, MessageNode) and y.data == 4 and y.parents == [x, fetch.parameter]
    original = fetch.parameter.data
    try:
        fetch.parameter.set("async def fetch(a, delay=0.0):\n    return a / 0\n")
        with pytest.raises(ExecutionError) as info:
            await fetch(x)
        assert "-->     return a / 0" in info.value.exception_node.data
    finally:
        fetch.parameter.set(original)
    with ot.stop_tracing():
        assert await fetch(x) == 4


class Agent:
    def __init__(self, greeting: str) -> None:
        self.greeting = greeting

    @ot.bundle(trainable=True)
    def reply(self, message):
        return f"{self.greeting}, {message}"

    @ot.bundle
    def shout(self, message):
        return message.upper()


def test_methods() -> None:
    a, b = Agent("hi"), Agent("hello")
    msg = ot.node("bob", name="msg")
    y = a.reply(msg)
    assert y.data == "hi, bob" and list(y.inputs) == ["message"] and y.parents == [msg, Agent.reply.parameter]
    assert a.shout("x").data == "X" and a.shout.parameter is None
    assert a.reply.parameter is b.reply.parameter is Agent.reply.parameter  # one code parameter per class
    assert a.reply.parameter.code_signature == "(self, message)"
    original = Agent.reply.parameter.data
    try:
        Agent.reply.parameter.set("def reply(self, message):\n    return message + '!'\n")
        assert b.reply("x").data == "x!"
    finally:
        Agent.reply.parameter.set(original)
    assert "bound" in repr(a.reply)
