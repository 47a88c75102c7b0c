"""Solving a ModelSpec as an answer: the one place that turns a spec into printed values and a verdict, for
the modeler agent's spec mode and for grading a spec answer alike. No generated code runs: the spec is
built and solved in-process (HiGHS or SCIP)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from optotrace.modeling.solution import Solution

__all__ = ["SpecRun", "solve_spec"]


@dataclass
class SpecRun:
    """`output` lists `name: value` for every variable, then `objective:` and `status:` (so labels that name
    variables are found by a value extractor); `failure` is None when a solution is available."""

    output: str = ""
    failure: str | None = None
    solution: Solution | None = None
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.failure is None


def solve_spec(spec: Any, time_limit: float | None = None) -> SpecRun:
    """Build and solve `spec` (a ModelSpec or its dict); a spec that does not build is a failed SpecRun."""
    from optotrace.modeling.solve import solve

    start = time.monotonic()
    try:
        solution = solve(spec, time_limit=time_limit)
    except Exception as exc:  # a spec that does not build is the answer's failure, not the caller's
        return SpecRun(failure=f"the model does not build: {type(exc).__name__}: {exc}"[:1500],
                       seconds=time.monotonic() - start)
    lines = [f"{name}: {value}" for name, value in (solution.values or {}).items()]
    lines += [f"objective: {solution.objective}", f"status: {solution.status}"]
    failure = None if solution.ok else f"the solver says the model is {solution.status}: {solution.message or ''}".strip()
    return SpecRun("\n".join(lines), failure, solution, time.monotonic() - start)
