"""Grading an answer given as a ModelSpec: solve it directly (no generated code runs) and print its values."""

from __future__ import annotations

import time
from typing import Any

from optotrace.benchmarks.answer import AgentResult
from optotrace.benchmarks.problem import Problem


def solve_spec(problem: Problem, answer: AgentResult, time_limit: float) -> tuple[str, bool, str | None, float]:
    """(output text, solved cleanly, failure, seconds). The output lists `name: value` for every variable
    and `objective: value`, so labels that name variables are found by the extractor."""
    from optotrace.modeling import solve  # modeling is below benchmarks in the import order

    start = time.monotonic()
    try:
        solution: Any = solve(answer.spec, time_limit=time_limit)
    except Exception as exc:  # a spec that does not build is the agent's failure, not the run's
        return "", False, f"the ModelSpec could not be solved: {type(exc).__name__}: {exc}", time.monotonic() - start
    lines = [f"{name}: {value}" for name, value in (solution.values or {}).items()]
    lines.append(f"objective: {solution.objective}")
    lines.append(f"status: {solution.status}")
    ok = solution.status in ("optimal", "feasible")
    failure = None if ok else f"the model's status is {solution.status}: {solution.message or ''}".strip()
    if ok and problem.objective_key and answer.values is None:
        answer.values = {problem.objective_key: solution.objective}
    return "\n".join(lines), ok, failure, time.monotonic() - start
