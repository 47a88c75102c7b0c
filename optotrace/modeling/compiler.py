"""Compiler: the expression trees of one ModelSpec as Pyomo expressions on one model (sums, products, powers,
sum/min/max/abs over index bindings, with abs/min/max linearized where their position allows)."""

from __future__ import annotations

import ast
import math
from collections.abc import Iterator
from typing import Any

import pyomo.environ as pyo

from optotrace.modeling.constraint_rows import is_const
from optotrace.modeling.data import Key
from optotrace.modeling.errors import ExpressionError
from optotrace.modeling.expressions import Factors, Terms
from optotrace.modeling.sets import element_lookup
from optotrace.modeling.spec import Element, ModelSpec

Value = Any  # a float (constant) or a Pyomo expression
_FUNCS = {"sqrt": (math.sqrt, pyo.sqrt), "exp": (math.exp, pyo.exp), "log": (math.log, pyo.log)}


class Compiler:
    """Turns parsed expressions into Pyomo expressions for one model."""

    def __init__(self, spec: ModelSpec, model: pyo.ConcreteModel) -> None:
        self.spec = spec
        self.model = model
        self.sets: dict[str, list[Element]] = {s.name: list(s.elements) for s in spec.sets}
        self.lookup: dict[str, dict[object, Element]] = {n: element_lookup(e) for n, e in self.sets.items()}
        self.data: dict[str, tuple[list[str], dict[Key, float]]] = {}
        self.vars: dict[str, tuple[list[str], Any]] = {}
        self.aux = 0
        self.item = ""
        self.text = ""
        self.shift = 0

    # -- errors --------------------------------------------------------------------------------
    def fail(self, problem: str, node: ast.AST | None = None) -> ExpressionError:
        col = getattr(node, "col_offset", None)
        return ExpressionError(
            self.item, self.text, problem, None if col is None else max(col - self.shift, 0)
        )

    def at(self, item: str, text: str, shift: int = 0) -> None:
        self.item, self.text, self.shift = item, text, shift

    # -- bindings ------------------------------------------------------------------------------
    def bindings(
        self, comps: list[ast.comprehension], env: dict[str, Element]
    ) -> Iterator[dict[str, Element]]:
        if not comps:
            yield env
            return
        first, rest = comps[0], comps[1:]
        assert isinstance(first.target, ast.Name) and isinstance(first.iter, ast.Name)
        name, set_name = first.target.id, first.iter.id
        if set_name not in self.sets:
            raise self.fail(
                f"'{set_name}' is not a set (declared sets: {sorted(self.sets) or 'none'})", first.iter
            )
        if name in self.data or name in self.vars or name in self.sets:
            raise self.fail(f"the index name '{name}' hides the {self.kind(name)} of that name", first.target)
        for element in self.sets[set_name]:
            inner = {**env, name: element}
            if all(self.condition(c, inner) for c in first.ifs):
                yield from self.bindings(rest, inner)

    def kind(self, name: str) -> str:
        return "set" if name in self.sets else "data" if name in self.data else "variable"

    def condition(self, node: ast.expr, env: dict[str, Element]) -> bool:
        if isinstance(node, ast.BoolOp):
            values = (self.condition(v, env) for v in node.values)
            return all(values) if isinstance(node.op, ast.And) else any(values)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            return not self.condition(node.operand, env)
        if isinstance(node, ast.Compare):
            left = self.element(node.left, env)
            for op, comp in zip(node.ops, node.comparators, strict=True):
                right = self.element(comp, env)
                try:
                    ok = {
                        ast.Eq: lambda a, b: a == b,
                        ast.NotEq: lambda a, b: a != b,
                        ast.Lt: lambda a, b: a < b,
                        ast.LtE: lambda a, b: a <= b,
                        ast.Gt: lambda a, b: a > b,
                        ast.GtE: lambda a, b: a >= b,
                    }[type(op)](left, right)
                except TypeError:
                    raise self.fail(f"cannot compare {left!r} with {right!r}", node) from None
                if not ok:
                    return False
                left = right
            return True
        value = self.element(node, env)
        return bool(value)

    def element(self, node: ast.expr, env: dict[str, Element]) -> Element:
        """An index or condition term: a constant value, never a variable."""
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, ast.Name) and node.id in env:
            return env[node.id]
        value = self.expr(node, env, 0)
        if not is_const(value):
            raise self.fail("an index or condition cannot depend on variables", node)
        return int(value) if float(value).is_integer() else value

    # -- expressions ---------------------------------------------------------------------------
    def expr(self, node: ast.expr, env: dict[str, Element], sign: int) -> Value:
        """`sign` is +1 where the expression should be convex (minimised, or on the small side of <=),
        -1 where concave, 0 where neither is known; it decides whether abs/min/max can be linearized."""
        if isinstance(node, ast.Constant):
            if isinstance(node.value, str):
                raise self.fail(f"the text {node.value!r} can only be an index, e.g. x['{node.value}']", node)
            return float(node.value)
        if isinstance(node, ast.Name):
            return self.name(node, env)
        if isinstance(node, ast.Subscript):
            return self.subscript(node, env)
        if isinstance(node, ast.UnaryOp):
            v = self.expr(node.operand, env, -sign if isinstance(node.op, ast.USub) else sign)
            return -v if isinstance(node.op, ast.USub) else v
        if isinstance(node, Terms):
            return self.terms(node, env, sign)
        if isinstance(node, Factors):
            return self.factors(node, env, sign)
        if isinstance(node, ast.BinOp):
            return self.binop(node, env, sign)
        if isinstance(node, ast.Call):
            return self.call(node, env, sign)
        raise self.fail(f"'{type(node).__name__}' is not allowed here", node)

    def name(self, node: ast.Name, env: dict[str, Element]) -> Value:
        n = node.id
        if n in env:
            value = env[n]
            if isinstance(value, str):
                raise self.fail(
                    f"the index '{n}' stands for the text {value!r} and cannot be used as a number", node
                )
            return float(value)
        if n in self.data:
            index, values = self.data[n]
            if index:
                raise self.fail(
                    f"data '{n}' is indexed by {index}: write {n}[{', '.join(i.lower() for i in index)}]",
                    node,
                )
            return values[()]
        if n in self.vars:
            index, var = self.vars[n]
            if index:
                raise self.fail(
                    f"variable '{n}' is indexed by {index}: write {n}[...] or sum({n}[i] for i in {index[0]})",
                    node,
                )
            return var
        if n in self.sets:
            raise self.fail(f"'{n}' is a set: iterate over it, e.g. sum(... for i in {n})", node)
        raise self.fail(f"unknown name '{n}' (known: {_some(sorted([*self.vars, *self.data, *env]))})", node)

    def subscript(self, node: ast.Subscript, env: dict[str, Element]) -> Value:
        assert isinstance(node.value, ast.Name)
        n = node.value.id
        parts = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
        key = tuple(self.element(p, env) for p in parts)
        if n in self.vars:
            index, target = self.vars[n]
        elif n in self.data:
            index, target = self.data[n]
        elif n in self.sets or n in env:
            raise self.fail(f"'{n}' cannot be indexed: only variables and data can", node)
        else:
            raise self.fail(f"unknown name '{n}' (known: {_some(sorted([*self.vars, *self.data]))})", node.value)
        if len(key) != len(index):
            want = f"{len(index)} ({', '.join(index)})" if index else "none: it is a scalar"
            raise self.fail(f"'{n}' takes {want} indices, got {len(key)}", node)
        resolved = []
        for k, set_name, p in zip(key, index, parts, strict=True):
            lookup = self.lookup[set_name]
            match = lookup.get(k, lookup.get(str(k)))
            if match is None:
                raise self.fail(f"{k!r} is not an element of set '{set_name}' (in {n}[...])", p)
            resolved.append(match)
        if n in self.data:
            return target[tuple(resolved)]
        return target[resolved[0] if len(resolved) == 1 else tuple(resolved)]

    def terms(self, node: Terms, env: dict[str, Element], sign: int) -> Value:
        """An n-ary sum: constants folded, the rest summed in one Pyomo expression."""
        constant = 0.0
        total: Value = None
        for s, value in zip(node.signs, node.values, strict=True):
            v = self.expr(value, env, sign * s)
            if is_const(v):
                constant += s * v
                continue
            v = v if s > 0 else -v
            total = v if total is None else total + v
        if total is None:
            return constant
        return total + constant if constant else total

    def factors(self, node: Factors, env: dict[str, Element], sign: int) -> Value:
        """An n-ary product: a constant factor keeps (or flips) the position of a single other factor."""
        constant = 1.0
        rest: list[tuple[ast.expr, bool, Value]] = []
        for value, divide in zip(node.values, node.divide, strict=True):
            v = self.expr(value, env, 0) if self.may_const(value) else None
            if v is not None and is_const(v):
                if divide and v == 0:
                    raise self.fail("division by zero", value)
                constant = constant / v if divide else constant * v
            else:
                rest.append((value, divide, v))
        if not rest:
            return constant
        if len(rest) == 1 and not rest[0][1]:
            value, _, v = rest[0]
            v = v if v is not None else self.expr(value, env, sign * _sgn(constant))
            return v if constant == 1 else constant * v
        result: Value = None
        for value, divide, v in rest:
            v = v if v is not None else self.expr(value, env, 0)
            if divide:
                result = (1.0 if result is None else result) / v
            else:
                result = v if result is None else result * v
        return result if constant == 1 else constant * result

    def binop(self, node: ast.BinOp, env: dict[str, Element], sign: int) -> Value:
        """%, // and ** (sums and products arrive as Terms and Factors)."""
        op = node.op
        if isinstance(op, (ast.Mod, ast.FloorDiv)):
            a, b = self.expr(node.left, env, 0), self.expr(node.right, env, 0)
            if not (is_const(a) and is_const(b)) or b == 0:
                raise self.fail(
                    "% and // only combine index values and data, never variables (nor by zero)", node
                )
            return float(a % b if isinstance(op, ast.Mod) else a // b)
        if isinstance(op, ast.Pow):
            base = self.expr(node.left, env, 0)
            exponent = self.expr(node.right, env, 0)
            if is_const(base) and is_const(exponent):
                try:
                    return float(base**exponent)
                except (OverflowError, ZeroDivisionError, TypeError):
                    raise self.fail("this power has no real value", node) from None
            return base**exponent
        raise self.fail("operator not allowed", node)

    def may_const(self, node: ast.expr) -> bool:
        """Cheap syntactic test: could this subtree be free of variables?"""
        return not any(isinstance(n, ast.Name) and n.id in self.vars for n in ast.walk(node))

    def call(self, node: ast.Call, env: dict[str, Element], sign: int) -> Value:
        assert isinstance(node.func, ast.Name)
        f = node.func.id
        if f == "sum":
            gen = node.args[0]
            assert isinstance(gen, ast.GeneratorExp)
            total: Value = 0.0
            for inner in self.bindings(gen.generators, env):
                total = total + self.expr(gen.elt, inner, sign)
            return total
        if f in _FUNCS:
            const_f, pyo_f = _FUNCS[f]
            arg = self.expr(node.args[0], env, 0)
            if is_const(arg):
                try:
                    return float(const_f(arg))
                except (ValueError, OverflowError):
                    raise self.fail(f"{f}({arg}) is undefined", node) from None
            return pyo_f(arg)
        if isinstance(node.args[0], ast.GeneratorExp):
            gen = node.args[0]
            terms = [self.expr(gen.elt, inner, sign) for inner in self.bindings(gen.generators, env)]
        else:
            terms = [self.expr(a, env, sign) for a in node.args]
        if not terms:
            raise self.fail(f"{f}() over an empty set", node)
        if all(is_const(t) for t in terms):
            return float({"abs": lambda t: abs(t[0]), "min": min, "max": max}[f](terms))
        return self.linearize(f, terms, sign, node)

    def linearize(self, f: str, terms: list[Value], sign: int, node: ast.Call) -> Value:
        """Epigraph (max, abs in a convex position) or hypograph (min in a concave position) variable."""
        convex = f in ("max", "abs")
        if (convex and sign != 1) or (not convex and sign != -1):
            where = (
                "minimized, or on the smaller side of <="
                if convex
                else "maximized, or on the larger side of >="
            )
            raise self.fail(
                f"{f}() of variables can only be linearized where it is {where}; reformulate with an "
                "explicit variable and constraints (with binaries for the nonconvex case)",
                node,
            )
        self.aux += 1
        t = pyo.Var()
        rows = pyo.ConstraintList()
        self.model.add_component(f"_aux{self.aux}_{f}", t)
        self.model.add_component(f"_aux{self.aux}_{f}_def", rows)
        pieces = [terms[0], -terms[0]] if f == "abs" else terms
        for p in pieces:
            rows.add(t >= p if convex else t <= p)
        return t


def _some(names: list[str], limit: int = 12) -> str:
    """Names for a message: all of a few, the first `limit` of many."""
    if not names:
        return "none"
    shown = ", ".join(names[:limit])
    return shown if len(names) <= limit else f"{shown}, ... ({len(names)} in all)"


def _sgn(x: float) -> int:
    return 1 if x > 0 else -1 if x < 0 else 0
