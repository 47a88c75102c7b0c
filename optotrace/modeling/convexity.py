"""Is a quadratic objective convex (minimize) or concave (maximize)? Eigenvalues of its Hessian."""

from __future__ import annotations

import numpy as np
import pyomo.environ as pyo
from pyomo.repn.standard_repn import generate_standard_repn


def quadratic_hessian(expr: object) -> np.ndarray | None:
    """The (constant) Hessian of a polynomial of degree <= 2; None when `expr` is not quadratic."""
    repn = generate_standard_repn(expr, quadratic=True, compute_values=True)
    if repn.nonlinear_expr is not None:
        return None
    position: dict[int, int] = {}
    for a, b in repn.quadratic_vars:
        for v in (a, b):
            position.setdefault(id(v), len(position))
    n = len(position)
    hessian = np.zeros((n, n))
    for (a, b), coef in zip(repn.quadratic_vars, repn.quadratic_coefs, strict=True):
        i, j = position[id(a)], position[id(b)]
        if i == j:
            hessian[i, i] += 2.0 * float(coef)
        else:
            hessian[i, j] += float(coef)
            hessian[j, i] += float(coef)
    return hessian


def objective_is_convex(model: pyo.Block, tol: float = 1e-9) -> bool:
    """True when the active objective is convex for minimization (PSD Hessian) or concave for maximization
    (NSD Hessian); False when it is not, or not quadratic."""
    objectives = list(model.component_data_objects(pyo.Objective, active=True))
    if len(objectives) != 1:
        return False
    objective = objectives[0]
    hessian = quadratic_hessian(objective.expr)
    if hessian is None:
        return False
    if hessian.size == 0:
        return True
    eigenvalues = np.linalg.eigvalsh(hessian)
    scale = tol * max(1.0, float(np.max(np.abs(eigenvalues))))
    if objective.sense == pyo.minimize:
        return bool(eigenvalues.min() >= -scale)
    return bool(eigenvalues.max() <= scale)
