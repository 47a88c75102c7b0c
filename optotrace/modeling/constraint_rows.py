"""The rows of one constraint (a family gives one per binding) and how they become Pyomo components."""

from __future__ import annotations

import ast
from collections.abc import Callable
from typing import Any

import pyomo.environ as pyo

from optotrace.modeling.data import Key
from optotrace.modeling.spec import Element

Value = Any


def is_const(v: Value) -> bool:
    return isinstance(v, (int, float))


def constraint_rows(c: Any, parts: list[ast.expr], ops: list[str], env: dict[str, Element]) -> list[Any]:
    """Pyomo relational expressions (or True/False for ones without variables) of one constraint instance."""
    signs = {"<=": (1, -1), ">=": (-1, 1), "==": (0, 0)}
    if len(ops) == 2:
        lo = c.expr(parts[0], env, signs[ops[0]][0])
        mid = c.expr(parts[1], env, 0)
        hi = c.expr(parts[2], env, signs[ops[1]][1])
        if ops[0] == ">=":
            lo, hi = hi, lo
        if is_const(lo) and is_const(hi) and not is_const(mid):
            return [pyo.inequality(lo, mid, hi)]
        first = [relation(lo, "<=", mid)] if ops[0] == "<=" else [relation(mid, "<=", lo)]
        second = [relation(mid, "<=", hi)] if ops[0] == "<=" else [relation(hi, "<=", mid)]
        return first + second
    a = c.expr(parts[0], env, signs[ops[0]][0])
    b = c.expr(parts[1], env, signs[ops[0]][1])
    return [relation(a, ops[0], b)]


def relation(a: Value, op: str, b: Value) -> Any:
    if is_const(a) and is_const(b):
        return (
            bool(a <= b + 1e-9) if op == "<=" else bool(a >= b - 1e-9) if op == ">=" else abs(a - b) <= 1e-9
        )
    return a <= b if op == "<=" else a >= b if op == ">=" else a == b


def add_rows(m: pyo.ConcreteModel, name: str, rows: list[tuple[Key, Any]], family: bool,
             component_name: Callable[[pyo.ConcreteModel, str], str]) -> None:
    live = [(k, r) for k, r in rows if r is not True]
    if any(r is False for _, r in live):
        # A constraint without variables that never holds: the model is infeasible, which is a result.
        bad = pyo.Var(bounds=(0, 0))
        m.add_component(component_name(m, f"_{name}_never_holds"), bad)
        live = [(k, bad >= 1 if r is False else r) for k, r in live]
    if not live:
        return
    keys = [k[0] if len(k) == 1 else k for k, _ in live]
    if not family and len(live) == 1:
        component: Any = pyo.Constraint(expr=live[0][1])
    elif family and len(set(keys)) == len(keys):
        exprs = dict(zip(keys, (r for _, r in live), strict=True))
        component = pyo.Constraint(keys, rule=lambda _m, *k: exprs[k[0] if len(k) == 1 else tuple(k)])
    else:
        component = pyo.ConstraintList()
        m.add_component(component_name(m, name), component)
        for _, r in live:
            component.add(r)
        return
    m.add_component(component_name(m, name), component)
