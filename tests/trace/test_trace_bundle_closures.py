"""@bundle(trainable=True) on functions whose closure cells are empty when decorated (recursion, helpers
defined later, super() and __class__ in methods), and new source for them."""

from __future__ import annotations

import pytest

import optotrace as ot
from optotrace.trace import CodeUpdateError, ExecutionError


def make_factorial():
    @ot.bundle(trainable=True)
    def fact(n):
        return 1 if n <= 1 else n * fact(n - 1)

    return fact


def make_with_later_helper(scale):
    @ot.bundle(trainable=True)
    def run(x, k=scale):
        return helper(x) + k

    def helper(x):
        return x * 10

    return run


def test_recursive_inner_function() -> None:
    fact = make_factorial()
    assert fact(4).data == 24
    fact.parameter.set("def fact(n):\n    return 1 if n <= 1 else 2 * fact(n - 1)\n")
    assert fact(4).data == 8  # the recursive calls run the new code too


def test_helper_defined_later_in_the_same_scope() -> None:
    run = make_with_later_helper(1)
    assert run(2).data == 21
    run.parameter.set("def run(x, k=scale):\n    return helper(x) - k\n")
    assert run(2).data == 19
    run.parameter.set("import math\n\ndef run(x, k=scale):\n    return math.floor(helper(x) / 3) + k\n")
    assert run(2).data == 7
    run.parameter.set("from __future__ import annotations\n\ndef run(x, k=scale):\n    return helper(x) * k\n")
    assert run(2).data == 20  # a __future__ import stays valid although the code is compiled inside a scope


def test_closure_values_are_read_when_called_not_when_decorated() -> None:
    def make():
        @ot.bundle(trainable=True)
        def read(x):
            return x + offset

        def set_offset(v):
            nonlocal offset
            offset = v

        offset = 1
        return read, set_offset

    read, set_offset = make()
    assert read(1).data == 2
    set_offset(5)
    assert read(1).data == 6
    read.parameter.set("def read(x):\n    return x + 2 * offset\n")
    assert read(1).data == 11
    set_offset(0)
    assert read(1).data == 1  # the new code shares the original's cells


class Base:
    def greet(self, name):
        return f"hello {name}"


class Child(Base):
    @ot.bundle(trainable=True)
    def greet(self, name):
        return super().greet(name).upper()


class Plain(Base):
    @ot.bundle(trainable=True)
    def greet(self, name):
        return "hi " + name


class Named(Base):
    @ot.bundle(trainable=True)
    def greet(self, name):
        return f"{__class__.__name__} {name}"


def test_method_calling_super() -> None:
    assert Child().greet("ann").data == "HELLO ANN"
    original = Child.greet.parameter.data
    Child.greet.parameter.set("def greet(self, name):\n    return super().greet(name) + '!'\n")
    assert Child().greet("ann").data == "hello ann!"
    Child.greet.parameter.set(original)
    assert Child().greet("ann").data == "HELLO ANN"


def test_new_code_may_call_super_when_the_original_did_not() -> None:
    assert Plain().greet("bo").data == "hi bo"
    Plain.greet.parameter.set("def greet(self, name):\n    return super().greet(name) + '?'\n")
    assert Plain().greet("bo").data == "hello bo?"
    assert Named().greet("cy").data == "Named cy"
    Named.greet.parameter.set("def greet(self, name):\n    return __class__.__name__.lower() + name\n")
    assert Named().greet("cy").data == "namedcy"


def test_checks_still_apply_to_closure_functions() -> None:
    run = make_with_later_helper(0)
    run.parameter.set("def run(x):\n    return x\n")
    with pytest.raises(ExecutionError, match="changed its signature") as info:
        run(1)
    assert isinstance(info.value.exception, CodeUpdateError)
    run.parameter.set("def other(x, k=scale):\n    return x\n")
    with pytest.raises(ExecutionError, match="must define a function named 'run'"):
        run(1)
    run.parameter.set("def run(x, k=scale):\n    return x +\n")
    with pytest.raises(ExecutionError, match="syntax error at line 2"):
        run(1)


def test_failures_in_new_closure_code_point_at_the_right_line() -> None:
    run = make_with_later_helper(0)
    run.parameter.set("def run(x, k=scale):\n    y = helper(x)\n    return y / k\n")
    with pytest.raises(ExecutionError) as info:
        run(1)
    assert isinstance(info.value.exception, ZeroDivisionError)
    assert "-->     return y / k" in info.value.exception_node.data


def test_async_inner_function_with_closure() -> None:
    import asyncio

    def make():
        @ot.bundle(trainable=True)
        async def twice(x):
            return await double(x)

        async def double(x):
            return 2 * x

        return twice

    twice = make()
    assert asyncio.run(twice(3)).data == 6
    twice.parameter.set("async def twice(x):\n    return await double(x) + 1\n")
    assert asyncio.run(twice(3)).data == 7


def test_deepcopy_of_a_closure_function_keeps_its_own_code() -> None:
    import copy

    fact = make_factorial()
    twin = copy.deepcopy(fact)
    assert twin.parameter is not fact.parameter and twin.parameter.id != fact.parameter.id
    twin.parameter.set("def fact(n):\n    return 1 if n <= 1 else n + fact(n - 1)\n")
    # the copy's own code runs at the top; the recursive name still refers to the original function
    assert fact(4).data == 24 and twin(4).data == 4 + 6


def test_method_of_a_class_defined_in_a_function() -> None:
    def make(suffix):
        class Local(Base):
            @ot.bundle(trainable=True)
            def greet(self, name):
                return super().greet(name) + suffix

        return Local

    local = make("!")
    assert local().greet("di").data == "hello di!"
    local.greet.parameter.set("def greet(self, name):\n    return suffix + super().greet(name)\n")
    assert local().greet("di").data == "!hello di"
