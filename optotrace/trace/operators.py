"""Operators on nodes. Each one records a MessageNode (op_name, op_description "[add] a + b") whose parents
are its node inputs; plain operands become constant nodes.

Python's protocols decide what can be traced: `+ - * / // % ** @ & | ^ << >>`, `divmod()`, unary `- + ~ abs()`,
`round()`, `math.floor/ceil/trunc`, `< <= > >=` and `n[k]` return nodes. `==`, `!=`, `bool()`, `len()` and `in` must return plain values, so they are untraced;
use `n.eq(x)`, `n.ne(x)`, `n.len()`, `n.contains(x)` for traced versions. Attribute access is `n.getattr("x")`
(a `__getattr__` hook would shadow Node's own attributes and turn typos into graph nodes). List and dict
"mutators" (`append`, `extend`, `insert`, `update`, `with_item`) are pure: they return a new node and never
change the data of the node they are called on.
"""

from __future__ import annotations

import copy
import math
import operator
from collections.abc import Callable, Iterator
from typing import Any


def _binary(name: str, symbol: str, fn: Callable[[Any, Any], Any]) -> tuple[Callable, Callable]:
    expression = f"a {symbol} b"

    def forward(self: Any, other: Any) -> Any:
        return self._op(name, expression, fn, ("a", self), ("b", other))

    def reflected(self: Any, other: Any) -> Any:
        return self._op(name, expression, fn, ("a", other), ("b", self))

    forward.__name__, reflected.__name__ = f"__{name}__", f"__r{name}__"
    return forward, reflected


def _unary(name: str, expression: str, fn: Callable[[Any], Any]) -> Callable:
    def method(self: Any) -> Any:
        return self._op(name, expression, fn, ("a", self))

    method.__name__ = name
    return method


def _method(name: str) -> Callable:
    """A traced call of the data's own method `name`, e.g. `n.upper()` -> `[upper] a.upper()`."""

    def method(self: Any, *args: Any, **kwargs: Any) -> Any:
        npos, keys = len(args), tuple(kwargs)

        def call(obj: Any, *values: Any) -> Any:
            return getattr(obj, name)(*values[:npos], **dict(zip(keys, values[npos:], strict=True)))

        named = [("a", self), *((f"arg{i}", v) for i, v in enumerate(args)), *kwargs.items()]
        expression = f"a.{name}({', '.join(n for n, _ in named[1:])})"
        return self._op(name, expression, call, *named)

    method.__name__ = name
    method.__doc__ = f"Traced `data.{name}(...)`."
    return method


def _call(obj: Any, *values: Any, _npos: int = 0, _keys: tuple[str, ...] = ()) -> Any:
    return obj(*values[:_npos], **dict(zip(_keys, values[_npos:], strict=True)))


class NodeOperators:
    """Mixin for Node: every method goes through `self._op(op_name, expression, fn, *(name, value))`."""

    __slots__ = ()
    _op: Callable[..., Any]

    __add__, __radd__ = _binary("add", "+", operator.add)
    __sub__, __rsub__ = _binary("sub", "-", operator.sub)
    __mul__, __rmul__ = _binary("mul", "*", operator.mul)
    __truediv__, __rtruediv__ = _binary("truediv", "/", operator.truediv)
    __floordiv__, __rfloordiv__ = _binary("floordiv", "//", operator.floordiv)
    __mod__, __rmod__ = _binary("mod", "%", operator.mod)
    __pow__, __rpow__ = _binary("pow", "**", operator.pow)
    __matmul__, __rmatmul__ = _binary("matmul", "@", operator.matmul)
    __and__, __rand__ = _binary("and", "&", operator.and_)
    __or__, __ror__ = _binary("or", "|", operator.or_)
    __xor__, __rxor__ = _binary("xor", "^", operator.xor)
    __lshift__, __rlshift__ = _binary("lshift", "<<", operator.lshift)
    __rshift__, __rrshift__ = _binary("rshift", ">>", operator.rshift)
    __lt__, _ = _binary("lt", "<", operator.lt)
    __le__, _ = _binary("le", "<=", operator.le)
    __gt__, _ = _binary("gt", ">", operator.gt)
    __ge__, _ = _binary("ge", ">=", operator.ge)
    eq, _ = _binary("eq", "==", operator.eq)
    ne, _ = _binary("ne", "!=", operator.ne)
    del _

    __neg__ = _unary("neg", "-a", operator.neg)
    __pos__ = _unary("pos", "+a", operator.pos)
    __invert__ = _unary("invert", "~a", operator.invert)
    __abs__ = _unary("abs", "abs(a)", abs)
    __floor__ = _unary("floor", "math.floor(a)", math.floor)
    __ceil__ = _unary("ceil", "math.ceil(a)", math.ceil)
    __trunc__ = _unary("trunc", "math.trunc(a)", math.trunc)
    clone = _unary("clone", "copy.deepcopy(a)", copy.deepcopy)
    clone.__doc__ = "Traced copy of the data: a new node whose parent is this one (copy.deepcopy(n) is detached)."
    len = _unary("len", "len(a)", len)
    keys = _unary("keys", "list(a.keys())", lambda a: list(a.keys()))
    values = _unary("values", "list(a.values())", lambda a: list(a.values()))
    items = _unary("items", "list(a.items())", lambda a: list(a.items()))

    upper, lower, strip, lstrip, rstrip = (_method(m) for m in ("upper", "lower", "strip", "lstrip", "rstrip"))
    split, rsplit, splitlines, replace = (_method(m) for m in ("split", "rsplit", "splitlines", "replace"))
    format, join, startswith, endswith = (_method(m) for m in ("format", "join", "startswith", "endswith"))
    capitalize, title, find, count, index = (_method(m) for m in ("capitalize", "title", "find", "count", "index"))
    swapcase = _method("swapcase")

    def __round__(self, ndigits: int | None = None) -> Any:
        if ndigits is None:
            return self._op("round", "round(a)", round, ("a", self))
        return self._op("round", "round(a, n)", round, ("a", self), ("n", ndigits))

    def __divmod__(self, other: Any) -> Any:
        return self._op("divmod", "divmod(a, b)", divmod, ("a", self), ("b", other))

    def __rdivmod__(self, other: Any) -> Any:
        return self._op("divmod", "divmod(a, b)", divmod, ("a", other), ("b", self))

    def detach(self) -> Any:
        """A copy with no link to this node's graph: `copy.deepcopy(self)` (new id, no parents, no feedback)."""
        return copy.deepcopy(self)
    get = _method("get")

    def __getitem__(self, key: Any) -> Any:
        return self._op("getitem", "a[key]", operator.getitem, ("a", self), ("key", key))

    def contains(self, item: Any) -> Any:
        """Traced `item in data` (the `in` operator itself must return a plain bool)."""
        return self._op("contains", "b in a", operator.contains, ("a", self), ("b", item))

    def getattr(self, name: str) -> Any:
        """Traced `data.<name>`."""
        return self._op("getattr", "getattr(a, name)", getattr, ("a", self), ("name", name))

    def call(self, *args: Any, **kwargs: Any) -> Any:
        """Traced call of the data (which must be callable) with nodes or plain values."""
        npos, keys = len(args), tuple(kwargs)

        def call(fn: Any, *values: Any) -> Any:
            return _call(fn, *values, _npos=npos, _keys=keys)

        named = [("a", self), *((f"arg{i}", v) for i, v in enumerate(args)), *kwargs.items()]
        return self._op("call", f"a({', '.join(n for n, _ in named[1:])})", call, *named)

    def append(self, item: Any) -> Any:
        """Pure: a new list (or tuple) node with `item` added at the end."""
        return self._op("append", "a + [b]", lambda a, b: a + type(a)((b,)), ("a", self), ("b", item))

    def extend(self, items: Any) -> Any:
        """Pure: a new list (or tuple) node with `items` added at the end."""
        return self._op("extend", "a + list(b)", lambda a, b: a + type(a)(b), ("a", self), ("b", items))

    def insert(self, position: int, item: Any) -> Any:
        """Pure: a new list (or tuple) node with `item` inserted before `position`."""

        def insert(a: Any, i: int, b: Any) -> Any:
            out = list(a)
            out.insert(i, b)
            return type(a)(out)

        return self._op("insert", "a[:i] + [b] + a[i:]", insert, ("a", self), ("i", position), ("b", item))

    def update(self, other: Any) -> Any:
        """Pure: a new dict node, `{**a, **b}`."""
        return self._op("update", "{**a, **b}", lambda a, b: {**a, **b}, ("a", self), ("b", other))

    def with_item(self, key: Any, value: Any) -> Any:
        """Pure: a copy of the list or dict data with `[key] = value`."""

        def with_item(a: Any, k: Any, v: Any) -> Any:
            out = a.copy()
            out[k] = v
            return out

        return self._op("with_item", "a with a[key] = b", with_item, ("a", self), ("key", key), ("b", value))

    def __iter__(self) -> Iterator[Any]:
        """Lists, tuples and strings yield traced `n[i]`; dicts yield their keys as traced nodes."""
        data = self.data  # type: ignore[attr-defined]
        if isinstance(data, dict):
            source, size = self.keys(), len(data)
        elif isinstance(data, (list, tuple, str)):
            source, size = self, len(data)
        else:
            source = self._op("list", "list(a)", list, ("a", self))
            size = len(source.data if isinstance(source, NodeOperators) else source)  # type: ignore[attr-defined]
        for i in range(size):
            yield source[i]
