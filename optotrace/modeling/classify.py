"""classify(spec or model): LP, MILP, QP, MIQP, NLP or MINLP, from polynomial degree and integrality."""

from __future__ import annotations

from typing import Any

import pyomo.environ as pyo

from optotrace.modeling.spec import ModelSpec

CLASSES = ("LP", "MILP", "QP", "MIQP", "NLP", "MINLP")


def _degree(expr: Any) -> float:
    """Polynomial degree; infinity for anything that is not a polynomial (exp, log, x/y, x**0.5, ...)."""
    if expr is None or isinstance(expr, (int, float)):
        return 0
    degree = expr.polynomial_degree()
    return float("inf") if degree is None else degree


def has_integers(model: pyo.Block) -> bool:
    return any(
        (v.is_integer() or v.is_binary()) and not v.fixed
        for v in model.component_data_objects(pyo.Var, descend_into=True)
    )


def classify_model(model: pyo.Block) -> str:
    """The class of a Pyomo model: QP means a quadratic objective under linear constraints; a quadratic
    constraint, or anything beyond degree two, makes it NLP."""
    objective = max(
        (_degree(o.expr) for o in model.component_data_objects(pyo.Objective, active=True)), default=0
    )
    constraints = max(
        (_degree(c.body) for c in model.component_data_objects(pyo.Constraint, active=True)), default=0
    )
    integer = has_integers(model)
    if constraints <= 1 and objective <= 1:
        return "MILP" if integer else "LP"
    if constraints <= 1 and objective <= 2:
        return "MIQP" if integer else "QP"
    return "MINLP" if integer else "NLP"


def classify(target: ModelSpec | pyo.Block) -> str:
    """ "LP" | "MILP" | "QP" | "MIQP" | "NLP" | "MINLP" for a ModelSpec (built first) or a Pyomo model."""
    if isinstance(target, ModelSpec):
        from optotrace.modeling.build import build

        target = build(target)
    return classify_model(target)
