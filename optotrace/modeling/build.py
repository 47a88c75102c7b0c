"""build(spec): a Pyomo ConcreteModel from a ModelSpec (its expressions compiled by our own Compiler), and
check_spec(spec), which builds once to check everything."""

from __future__ import annotations

import itertools
from typing import Any

import pyomo.environ as pyo

from optotrace.modeling.compiler import Compiler
from optotrace.modeling.constraint_rows import add_rows, constraint_rows
from optotrace.modeling.data import table
from optotrace.modeling.expressions import parse_bindings, parse_constraint, parse_expression
from optotrace.modeling.spec import Element, ModelSpec
from optotrace.modeling.structure import check_structure, var_bounds

__all__ = ["build", "check_spec", "component_of"]
_DOMAINS = {"continuous": pyo.Reals, "integer": pyo.Integers, "binary": pyo.Binary}


def _free_name(model: pyo.ConcreteModel, name: str) -> str:
    while hasattr(model, name):
        name += "_"
    return name


def _component_name(model: pyo.ConcreteModel, name: str) -> str:
    """A free component name for the spec item `name`, remembered for component_of."""
    model._spec_names[name] = _free_name(model, name)
    return model._spec_names[name]


def build(spec: ModelSpec) -> pyo.ConcreteModel:
    """The Pyomo ConcreteModel of `spec`: components carry the spec's names (a trailing _ where a name
    collides with a Pyomo attribute); linearization helpers are named _aux<k>_<fn>."""
    check_structure(spec)
    m = pyo.ConcreteModel(name=spec.name)
    m._spec_names = {}
    c = Compiler(spec, m)
    for s in spec.sets:
        m.add_component(_component_name(m, s.name), pyo.Set(initialize=list(s.elements), ordered=True))
    for d in spec.data:
        c.data[d.name] = (list(d.index), table(d, spec))
    for v in spec.variables:
        lo, hi = var_bounds(v)
        domain = _DOMAINS[v.domain]
        if v.index:
            sets = [c.sets[s] for s in v.index]
            keys = list(sets[0]) if len(sets) == 1 else list(itertools.product(*sets))
            var = pyo.Var(keys, domain=domain, bounds=(lo, hi), dense=True)
        else:
            var = pyo.Var(domain=domain, bounds=(lo, hi))
        if v.description:
            var.doc = v.description
        m.add_component(_component_name(m, v.name), var)
        c.vars[v.name] = (list(v.index), var)

    obj = spec.objective
    c.at("objective", obj.expression)
    tree = parse_expression(obj.expression, "objective")
    sense = pyo.minimize if obj.sense == "minimize" else pyo.maximize
    m.add_component(
        _free_name(m, "objective"),  # not a spec item: a variable may be named "objective"
        pyo.Objective(expr=c.expr(tree, {}, 1 if sense == pyo.minimize else -1), sense=sense),
    )

    for con in spec.constraints:
        item = f"constraint '{con.name}'"
        parsed = parse_constraint(con.expression, item)
        envs: list[dict[str, Element]] = [{}]
        if con.for_each:
            binding = parse_bindings(con.for_each, item)
            c.at(item + " ('for' clause)", binding.text, binding.shift)
            envs = list(c.bindings(binding.generators, {}))
        c.at(item, con.expression)
        rows = [(tuple(env.values()), row) for env in envs
                for row in constraint_rows(c, parsed.parts, parsed.ops, env)]
        add_rows(m, con.name, rows, bool(con.for_each), _component_name)
    return m


def check_spec(spec: ModelSpec) -> None:
    """Everything: the structure, then every expression, by building the model once."""
    build(spec)


def component_of(model: pyo.Block, name: str) -> Any:
    """The model component built for the spec item `name` (a trailing _ when it collided with Pyomo)."""
    names: dict[str, str] = getattr(model, "_spec_names", {})
    return model.component(names.get(name, name))
