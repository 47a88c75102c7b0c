"""solve(spec or Pyomo model): HiGHS for LP/MILP/convex QP, SCIP for the rest, both through Pyomo's new
solver interface (pyomo.contrib.solver: "highs" via highspy, "scip_direct" via pyscipopt)."""

from __future__ import annotations

import math
import time
from typing import Any

import pyomo.environ as pyo
from pyomo.contrib.solver.common.factory import SolverFactory
from pyomo.contrib.solver.common.results import SolutionStatus, TerminationCondition

from optotrace.modeling.classify import classify_model
from optotrace.modeling.convexity import objective_is_convex
from optotrace.modeling.errors import SolverError
from optotrace.modeling.solution import Solution, Status, value_key
from optotrace.modeling.spec import ModelSpec

SOLVERS = {"highs": "highs", "scip": "scip_direct", "scip_direct": "scip_direct"}
_TC = TerminationCondition


def choose_solver(model: pyo.Block, problem_class: str) -> str:
    """HiGHS for LP, MILP and convex QP; SCIP for nonconvex QP, MIQP, NLP and MINLP."""
    if problem_class in ("LP", "MILP"):
        return "highs"
    if problem_class == "QP" and objective_is_convex(model):
        return "highs"
    return "scip"


def _status(tc: Any, has_solution: bool) -> Status:
    if tc == _TC.convergenceCriteriaSatisfied:
        return "optimal" if has_solution else "error"
    if tc == _TC.maxTimeLimit:
        return "time_limit"
    if tc in (_TC.provenInfeasible, _TC.locallyInfeasible):
        return "infeasible"
    if tc == _TC.unbounded:
        return "unbounded"
    if tc in (_TC.iterationLimit, _TC.objectiveLimit, _TC.minStepLength, _TC.interrupted):
        return "feasible" if has_solution else "error"
    return "error"


def _run(model: pyo.Block, solver: str, time_limit: float | None) -> Any:
    opt = SolverFactory(SOLVERS[solver])
    if not opt.available():
        raise SolverError(
            f"the solver {solver!r} is not available: install {'highspy' if solver == 'highs' else 'pyscipopt'}"
        )
    options: dict[str, Any] = {"load_solutions": False, "raise_exception_on_nonoptimal_result": False}
    if time_limit is not None:
        options["time_limit"] = float(time_limit)
    return opt.solve(model, **options)


def _infeasible_or_unbounded(model: pyo.Block, solver: str, time_limit: float | None) -> Status:
    """Tell the two apart: with a zero objective, a feasible model was unbounded."""
    objectives = list(model.component_objects(pyo.Objective, active=True))
    for o in objectives:
        o.deactivate()
    probe = pyo.Objective(expr=0.0)
    model.add_component("_feasibility_probe", probe)
    try:
        res = _run(model, solver, time_limit)
    finally:
        model.del_component(probe)
        for o in objectives:
            o.activate()
    if res.termination_condition == _TC.convergenceCriteriaSatisfied:
        return "unbounded"
    if res.termination_condition in (_TC.provenInfeasible, _TC.locallyInfeasible):
        return "infeasible"
    return "error"


def _values(model: pyo.Block, spec: ModelSpec | None) -> dict[str, float]:
    out: dict[str, float] = {}

    def put(key: str, v: Any) -> None:
        if v.value is None:
            return
        x = float(v.value)
        if (v.is_integer() or v.is_binary()) and abs(x - round(x)) < 1e-6:
            x = float(round(x))
        out[key] = x

    if spec is not None:
        from optotrace.modeling.build import component_of

        for sv in spec.variables:
            var = component_of(model, sv.name)
            if sv.index:
                for idx in var:
                    put(value_key(sv.name, idx), var[idx])
            else:
                put(sv.name, var)
        return out
    for v in model.component_data_objects(pyo.Var, descend_into=True):
        if not v.parent_component().local_name.startswith("_"):
            put(v.name, v)
    return out


def solve(target: ModelSpec | pyo.Block, solver: str = "auto", time_limit: float | None = None) -> Solution:
    """Solve a ModelSpec (built first) or a Pyomo model; `solver` is "auto", "highs" or "scip"."""
    spec = target if isinstance(target, ModelSpec) else None
    if spec is not None:
        from optotrace.modeling.build import build

        model = build(spec)
    else:
        model = target
    if solver not in ("auto", *SOLVERS):
        raise SolverError(f"unknown solver {solver!r}: use 'auto', 'highs' or 'scip'")
    problem_class = classify_model(model)
    chosen = (
        choose_solver(model, problem_class)
        if solver == "auto"
        else ("highs" if solver == "highs" else "scip")
    )
    if chosen == "highs" and problem_class in ("NLP", "MINLP", "MIQP"):
        raise SolverError(f"HiGHS cannot solve a {problem_class}: use solver='scip' or 'auto'")
    start = time.perf_counter()
    try:
        res = _run(model, chosen, time_limit)
    except SolverError:
        raise
    except Exception as exc:  # a solver crash or an expression it cannot take is a recorded failure
        return Solution(
            status="error",
            solver=chosen,
            problem_class=problem_class,
            time_s=time.perf_counter() - start,
            message=f"{type(exc).__name__}: {exc}",
        )
    has_solution = res.solution_status in (SolutionStatus.optimal, SolutionStatus.feasible)
    status = _status(res.termination_condition, has_solution)
    if res.termination_condition == _TC.infeasibleOrUnbounded:
        status = _infeasible_or_unbounded(model, chosen, time_limit)
    objective: float | None = None
    values: dict[str, float] = {}
    if has_solution and status not in ("infeasible", "unbounded", "error"):
        res.solution_loader.load_vars()
        values = _values(model, spec)
        objective = res.incumbent_objective
        if objective is None or not math.isfinite(objective):
            objs = list(model.component_data_objects(pyo.Objective, active=True))
            objective = float(pyo.value(objs[0])) if objs else None
    return Solution(
        status=status,
        objective=None if objective is None else float(objective),
        values=values,
        solver=chosen,
        problem_class=problem_class,
        time_s=time.perf_counter() - start,
        message=str(res.termination_condition.name),
    )
