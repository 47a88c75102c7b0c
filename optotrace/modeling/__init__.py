"""optotrace.modeling: model specs, Pyomo building, HiGHS/SCIP solving, and the sandbox for generated code.

    from optotrace.modeling import ModelSpec, build, classify, solve, Sandbox
"""

from optotrace.modeling.build import build
from optotrace.modeling.classify import classify, classify_model
from optotrace.modeling.errors import ExpressionError, ModelingError, SandboxError, SolverError, SpecError
from optotrace.modeling.sandbox import Limits, RunResult, Sandbox
from optotrace.modeling.solution import Solution
from optotrace.modeling.solve import solve
from optotrace.modeling.spec import Constraint, Data, IndexSet, ModelSpec, Objective, Variable

__all__ = [
    "Constraint",
    "Data",
    "ExpressionError",
    "IndexSet",
    "Limits",
    "ModelSpec",
    "ModelingError",
    "Objective",
    "RunResult",
    "Sandbox",
    "SandboxError",
    "Solution",
    "SolverError",
    "SpecError",
    "Variable",
    "build",
    "classify",
    "classify_model",
    "solve",
]
