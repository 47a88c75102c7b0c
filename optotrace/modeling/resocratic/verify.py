"""Beyond the paper: the formal lines, read deterministically (formal.py), become a ModelSpec that
optotrace.modeling solves on its own; a sample is kept only when the generated program's answer agrees with it."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

from optotrace.modeling.resocratic.formal import FormalModel, TranslationError, translate
from optotrace.modeling.resocratic.format import Scenario

DEFAULT_RTOL = 1e-4
DEFAULT_ATOL = 1e-6


def to_modelspec(fm: FormalModel, name: str = "resocratic") -> Any:
    """The FormalModel as an optotrace.modeling.ModelSpec (scalar variables, string expressions)."""
    from optotrace.modeling import Constraint, ModelSpec, Objective, Variable

    variables = [
        Variable(
            name=v.name,
            domain=v.domain,
            lower=v.lb,
            upper=v.ub,
            description=v.description,
        )
        for v in fm.variables.values()
    ]
    constraints = []
    counters: dict[str, int] = {}
    for label, rel in fm.constraints:
        base = label.replace("-", "_")
        counters[base] = counters.get(base, 0) + 1
        constraints.append(
            Constraint(name=f"{base}_{counters[base]}", expression=rel.python(), description=label)
        )
    safe_name = "".join(ch if ch.isalnum() or ch == "_" else "_" for ch in name) or "resocratic"
    return ModelSpec(
        name=safe_name,
        variables=variables,
        objective=Objective(sense=fm.sense, expression=fm.objective.python()),
        constraints=constraints,
    )


@dataclass
class FormalResult:
    """The independent solve of the formal lines: what was read, the ModelSpec, and the solver's answer."""

    translated: bool
    reason: str = ""  # "" when solved to optimality; otherwise the rejection reason
    detail: str = ""
    sense: str | None = None
    linear: bool | None = None
    integer: bool | None = None
    n_variables: int = 0
    n_constraints: int = 0
    spec_json: str | None = None
    status: str | None = None
    objective: float | None = None
    values: dict[str, float] = field(default_factory=dict)
    solver: str | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.reason

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FormalResult:
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})


def solve_formal(
    scenario: Scenario, name: str = "resocratic", time_limit: float | None = 60.0
) -> FormalResult:
    """Translate, build and solve; every failure comes back as a reason, never an exception."""
    try:
        fm = translate(scenario)
    except TranslationError as exc:
        return FormalResult(False, "formal_untranslatable", str(exc))
    result = FormalResult(
        True,
        sense=fm.sense,
        linear=fm.is_linear(),
        integer=fm.has_integers(),
        n_variables=len(fm.variables),
        n_constraints=len(fm.constraints),
        notes=list(fm.notes),
    )
    try:
        spec = to_modelspec(fm, name)
        spec.check()
    except Exception as exc:  # pydantic ValidationError, SpecError, ExpressionError: the spec is unusable
        result.reason, result.detail = "formal_spec_invalid", f"{type(exc).__name__}: {exc}"[:800]
        return result
    result.spec_json = spec.to_json(indent=None)
    try:
        from optotrace.modeling import solve

        solution = solve(spec, time_limit=time_limit)
    except Exception as exc:  # a solver failure is a recorded reason, not the end of the run
        result.reason, result.detail = "formal_solve_error", f"{type(exc).__name__}: {exc}"[:800]
        return result
    result.status = str(solution.status)
    result.solver = str(getattr(solution, "solver", "") or "")
    if solution.objective is not None and math.isfinite(float(solution.objective)):
        result.objective = float(solution.objective)
    result.values = {
        str(k): float(v)
        for k, v in (getattr(solution, "values", None) or {}).items()
        if isinstance(v, (int, float))
    }
    if result.status != "optimal" or result.objective is None:
        result.reason = "formal_not_optimal"
        result.detail = f"status {result.status}: {getattr(solution, 'message', '')}"[:800]
        return result
    broken = fm.violations(result.values) if result.values else []
    if broken:  # the solver's point breaks a formal line: the translation and the spec disagree
        result.reason, result.detail = "formal_solution_infeasible", "; ".join(broken[:5])
    return result


def solve_formal_text(text: str, name: str = "resocratic", time_limit: float | None = 60.0) -> dict[str, Any]:
    """`solve_formal` on scenario text, returning a plain dict (what a Ray task sends back)."""
    from optotrace.modeling.resocratic.format import parse_scenario

    parsed = parse_scenario(text)
    if parsed.scenario is None:
        return FormalResult(False, "formal_untranslatable", "; ".join(parsed.issues)).to_dict()
    return solve_formal(parsed.scenario, name, time_limit).to_dict()


@dataclass(frozen=True)
class Agreement:
    agree: bool
    abs_diff: float | None
    rel_diff: float | None
    rtol: float
    atol: float


def compare(
    program_answer: float | None,
    formal_answer: float | None,
    rtol: float = DEFAULT_RTOL,
    atol: float = DEFAULT_ATOL,
) -> Agreement:
    """Whether two objective values agree within max(atol, rtol * max(|a|, |b|))."""
    if program_answer is None or formal_answer is None:
        return Agreement(False, None, None, rtol, atol)
    diff = abs(program_answer - formal_answer)
    scale = max(abs(program_answer), abs(formal_answer))
    rel = diff / scale if scale > 0 else 0.0
    return Agreement(diff <= max(atol, rtol * scale), diff, rel, rtol, atol)
