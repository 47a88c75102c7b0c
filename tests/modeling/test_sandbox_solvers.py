"""The sandbox runs programs written for PuLP (bundled CBC), Pyomo (HiGHS, SCIP) and pyscipopt."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from optotrace.modeling import Sandbox

PULP = """
import pulp
prob = pulp.LpProblem("p", pulp.LpMaximize)
x = pulp.LpVariable("x", lowBound=0, cat="Integer")
y = pulp.LpVariable("y", lowBound=0)
prob += 3 * x + 2 * y
prob += x + y <= 4
prob += x + 3 * y <= 6
prob += x <= 3
prob.solve()
print(pulp.LpStatus[prob.status], pulp.value(prob.objective))
"""

PYOMO_HIGHS = """
import pyomo.environ as pyo
m = pyo.ConcreteModel()
m.x = pyo.Var(bounds=(0, 3)); m.y = pyo.Var(bounds=(0, None))
m.o = pyo.Objective(expr=3 * m.x + 2 * m.y, sense=pyo.maximize)
m.c = pyo.Constraint(expr=m.x + m.y <= 4)
res = pyo.SolverFactory("highs").solve(m)
print(str(res.solver.termination_condition), pyo.value(m.o))
"""

PYOMO_SCIP = """
import pyomo.environ as pyo
m = pyo.ConcreteModel()
m.x = pyo.Var(bounds=(-3, 3))
m.o = pyo.Objective(expr=m.x**4 - 3 * m.x**3 - m.x**2 + 3 * m.x)
res = pyo.SolverFactory("scip_direct").solve(m)
print(round(pyo.value(m.x), 3))
"""

PYSCIPOPT = """
from pyscipopt import Model
m = Model()
m.hideOutput()
x = m.addVar(vtype="INTEGER", lb=0, ub=5); y = m.addVar(vtype="INTEGER", lb=0, ub=5)
m.addCons(x * x + y * y <= 10)
m.setObjective(x + 2 * y, "maximize")
m.optimize()
print(m.getStatus(), m.getObjVal())
"""


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(pool_size=2, time_limit=60) as sb:
        yield sb


def test_preloaded_libraries(sandbox: Sandbox) -> None:
    r = sandbox.run(
        "import sys\nprint(all(m in sys.modules for m in ('pulp', 'pyomo.environ', 'pyscipopt', 'numpy')))"
    )
    assert r.stdout == "True\n"


def test_pulp_with_bundled_cbc(sandbox: Sandbox) -> None:
    r = sandbox.run(PULP)
    assert r.ok, r.stderr
    assert r.stdout.strip().splitlines()[-1] == "Optimal 11.0"


def test_pyomo_with_highs(sandbox: Sandbox) -> None:
    r = sandbox.run(PYOMO_HIGHS)
    assert r.ok, r.stderr
    status, objective = r.stdout.split()
    assert status == "optimal" and float(objective) == pytest.approx(11.0)


def test_pyomo_with_scip(sandbox: Sandbox) -> None:
    r = sandbox.run(PYOMO_SCIP)
    assert r.ok, r.stderr
    assert r.stdout.strip() == "2.326"


def test_pyscipopt(sandbox: Sandbox) -> None:
    r = sandbox.run(PYSCIPOPT)
    assert r.ok, r.stderr
    assert r.stdout.strip() == "optimal 7.0"


def test_all_together_in_parallel(sandbox: Sandbox) -> None:
    results = sandbox.run_many([PULP, PYOMO_HIGHS, PYOMO_SCIP, PYSCIPOPT] * 2)
    assert all(r.ok for r in results), [r.stderr for r in results if not r.ok]
