"""build / classify / solve with real HiGHS and SCIP, on models with known optima."""

from __future__ import annotations

import pyomo.environ as pyo
import pytest

from optotrace.modeling import ModelSpec, SolverError, classify, solve


def spec(
    variables: list[dict], sense: str, objective: str, constraints: list[dict] | None = None, **extra: object
) -> ModelSpec:
    return ModelSpec.model_validate(
        {
            "variables": variables,
            "objective": {"sense": sense, "expression": objective},
            "constraints": constraints or [],
            **extra,
        }
    )


def test_lp() -> None:
    s = spec(
        [{"name": "x", "lower": 0}, {"name": "y", "lower": 0}],
        "maximize",
        "3*x + 2*y",
        [
            {"name": "total", "expression": "x + y <= 4"},
            {"name": "mix", "expression": "x + 3*y <= 6"},
            {"name": "cap", "expression": "x <= 3"},
        ],
    )
    assert classify(s) == "LP"
    sol = solve(s)
    assert sol.status == "optimal" and sol.ok and sol.solver == "highs" and sol.problem_class == "LP"
    assert sol.objective == pytest.approx(11.0)
    assert sol.value("x") == pytest.approx(3.0) and sol.values["y"] == pytest.approx(1.0)


def test_milp_knapsack() -> None:
    s = spec(
        [{"name": "take", "index": "I", "domain": "binary"}],
        "maximize",
        "sum(value[i] * take[i] for i in I)",
        [{"name": "weight", "expression": "sum(w[i] * take[i] for i in I) <= 10"}],
        sets=[{"name": "I", "elements": [1, 2, 3, 4]}],
        data=[
            {"name": "value", "index": "I", "value": [10, 13, 7, 8]},
            {"name": "w", "index": "I", "value": [5, 6, 3, 4]},
        ],
    )
    assert classify(s) == "MILP"
    sol = solve(s)
    assert sol.status == "optimal" and sol.objective == pytest.approx(21.0)
    assert sol.values == {"take[1]": 0.0, "take[2]": 1.0, "take[3]": 0.0, "take[4]": 1.0}
    assert sol.value("take", 2) == 1.0


def test_integer_program_with_rounding() -> None:
    s = spec(
        [{"name": "n", "domain": "integer", "lower": 0}],
        "maximize",
        "n",
        [{"name": "c", "expression": "2*n <= 7"}],
    )
    sol = solve(s)
    assert sol.value("n") == 3.0


def test_convex_qp_goes_to_highs() -> None:
    s = spec(
        [{"name": "x"}, {"name": "y"}],
        "minimize",
        "(x - 1)**2 + (y - 2)**2 + x*y",
        [{"name": "c", "expression": "x + y >= 3"}],
    )
    assert classify(s) == "QP"
    sol = solve(s)
    assert sol.status == "optimal" and sol.solver == "highs"
    # minimise over x + y = 3 (the unconstrained optimum (0, 2) violates it): x = 0.5, y = 2.5
    assert sol.objective == pytest.approx(1.75, abs=1e-5)
    assert sol.value("x") == pytest.approx(0.5, abs=1e-4)


def test_nonconvex_qp_goes_to_scip_and_finds_the_global_optimum() -> None:
    # maximising a convex function over a box: the optimum sits at a vertex; local solvers stop elsewhere
    s = spec(
        [{"name": "x", "lower": -1, "upper": 2}, {"name": "y", "lower": -1, "upper": 1}],
        "maximize",
        "x**2 + y**2 - x*y",
    )
    assert classify(s) == "QP"
    sol = solve(s)
    assert sol.solver == "scip" and sol.status == "optimal"
    assert sol.objective == pytest.approx(7.0, abs=1e-5)  # at (2, -1)


def test_nonconvex_nlp_with_several_local_optima() -> None:
    # f(x) = x^4 - 3x^3 - x^2 + 3x on [-3, 3]: local minima near -0.67 (f ~ -1.3) and 2.33 (f ~ -6.91)
    s = spec([{"name": "x", "lower": -3, "upper": 3}], "minimize", "x**4 - 3*x**3 - x**2 + 3*x")
    assert classify(s) == "NLP"
    sol = solve(s)
    assert sol.status == "optimal" and sol.solver == "scip"
    assert sol.value("x") == pytest.approx(2.3264, abs=1e-3)
    assert sol.objective == pytest.approx(-6.9141, abs=1e-3)


def test_nlp_with_functions() -> None:
    s = spec(
        [{"name": "x", "lower": 0.1, "upper": 10}],
        "minimize",
        "x - log(x) + 0*sqrt(x) + exp(-x) * 0",
    )
    sol = solve(s)
    assert sol.status == "optimal" and sol.value("x") == pytest.approx(1.0, abs=1e-3)
    assert sol.objective == pytest.approx(1.0, abs=1e-4)


def test_minlp() -> None:
    # integer x, y; a circle constraint: maximise x + 2y with x^2 + y^2 <= 10 -> (1, 3) or... 1 + 6 = 7
    s = spec(
        [
            {"name": "x", "domain": "integer", "lower": 0, "upper": 5},
            {"name": "y", "domain": "integer", "lower": 0, "upper": 5},
        ],
        "maximize",
        "x + 2*y",
        [{"name": "circle", "expression": "x**2 + y**2 <= 10"}],
    )
    assert classify(s) == "MINLP"
    sol = solve(s)
    assert sol.status == "optimal" and sol.solver == "scip"
    assert sol.objective == pytest.approx(7.0)
    assert (sol.value("x"), sol.value("y")) == (1.0, 3.0)


def test_miqp_is_classified_and_solved_by_scip() -> None:
    s = spec([{"name": "n", "domain": "integer", "lower": -10, "upper": 10}], "minimize", "(n - 2.6)**2")
    assert classify(s) == "MIQP"
    sol = solve(s)
    assert sol.solver == "scip" and sol.value("n") == 3.0


def test_linearized_abs_min_max() -> None:
    s = spec(
        [{"name": "x"}, {"name": "y", "lower": 0, "upper": 10}],
        "minimize",
        "abs(x - 2) + max(x, 5 - x) - min(y, 4)",
        [{"name": "c", "expression": "max(x, y) <= 8"}],
    )
    assert classify(s) == "LP"
    sol = solve(s)
    assert sol.objective == pytest.approx(3.0 - 4.0)
    assert set(sol.values) == {"x", "y"}


def test_infeasible_is_a_result() -> None:
    s = spec([{"name": "x", "lower": 0}], "maximize", "x", [{"name": "neg", "expression": "x <= -1"}])
    sol = solve(s)
    assert sol.status == "infeasible" and not sol.ok and sol.objective is None and sol.values == {}


def test_infeasible_milp_and_constant_constraint() -> None:
    s = spec(
        [{"name": "x", "domain": "integer", "lower": 0, "upper": 10}],
        "maximize",
        "x",
        [{"name": "odd", "expression": "2*x == 3"}],
    )
    assert solve(s).status == "infeasible"
    never = spec(
        [{"name": "x", "lower": 0, "upper": 1}], "maximize", "x", [{"name": "never", "expression": "1 >= 2"}]
    )
    assert solve(never).status == "infeasible"


def test_unbounded_is_a_result() -> None:
    s = spec(
        [{"name": "x", "lower": 0}, {"name": "y"}],
        "maximize",
        "x + y",
        [{"name": "c", "expression": "x - y <= 1"}],
    )
    sol = solve(s)
    assert sol.status == "unbounded" and sol.objective is None


def test_solve_a_pyomo_model_directly() -> None:
    m = pyo.ConcreteModel()
    m.x = pyo.Var([1, 2], domain=pyo.NonNegativeReals)
    m.o = pyo.Objective(expr=m.x[1] + 2 * m.x[2], sense=pyo.maximize)
    m.c = pyo.Constraint(expr=m.x[1] + m.x[2] <= 3)
    sol = solve(m)
    assert sol.status == "optimal" and sol.objective == pytest.approx(6.0)
    assert sol.values == {"x[1]": 0.0, "x[2]": 3.0}


def test_explicit_solver_choice() -> None:
    s = spec([{"name": "x", "lower": 0, "upper": 2}], "maximize", "x")
    assert solve(s, solver="scip").solver == "scip"
    with pytest.raises(SolverError, match="HiGHS cannot solve"):
        solve(spec([{"name": "x", "lower": 1}], "minimize", "exp(x)"), solver="highs")
    with pytest.raises(SolverError, match="unknown solver"):
        solve(s, solver="gurobi")


def test_time_limit_is_reported() -> None:
    # a hard-ish knapsack with a tiny time limit: either solved fast or stopped by the limit
    n = 60
    s = spec(
        [{"name": "x", "index": "I", "domain": "integer", "lower": 0, "upper": 3}],
        "maximize",
        "sum(v[i] * x[i] for i in I)",
        [{"name": "w", "expression": "sum(wt[i] * x[i] for i in I) <= 1000.5"}],
        sets=[{"name": "I", "elements": list(range(n))}],
        data=[
            {"name": "v", "index": "I", "value": [((i * 7919) % 97) + 1 for i in range(n)]},
            {"name": "wt", "index": "I", "value": [((i * 104729) % 89) + 1.37 for i in range(n)]},
        ],
    )
    sol = solve(s, time_limit=0.01)
    assert sol.status in ("optimal", "time_limit")


def test_ten_thousand_variable_lp() -> None:
    n = 10_000
    s = spec(
        [{"name": "x", "index": "I", "lower": 0, "upper": 1}],
        "maximize",
        "sum(c[i] * x[i] for i in I)",
        [
            {"name": "budget", "expression": "sum(x[i] for i in I) <= 5000"},
            {"name": "pair", "for": "i in I if i % 2 == 0", "expression": "x[i] + x[i + 1] <= 1"},
        ],
        sets=[{"name": "I", "elements": list(range(n))}],
        data=[{"name": "c", "index": "I", "value": [float(i % 10) for i in range(n)]}],
    )
    sol = solve(s)
    assert sol.status == "optimal" and len(sol.values) == n
    # pair (2k, 2k+1) has costs (even d, d+1): pick the odd member, worth 1,3,5,7,9 cyclically
    assert sol.objective == pytest.approx(sum((2 * k) % 10 + 1 for k in range(n // 2)))
