"""Prefix expansion: a scenario with k constraints gives k problems (the variables, the objective and the
first 1, 2, ..., k constraints)."""

from __future__ import annotations

from dataclasses import dataclass

from optotrace.modeling.resocratic.format import Scenario


@dataclass(frozen=True)
class Problem:
    """One problem: a prefix of a scenario, with the ids that tie it to where it came from."""

    id: str
    scenario_id: str
    n_constraints: int
    scenario: Scenario

    @property
    def n_variables(self) -> int:
        return len(self.scenario.symbols())

    @property
    def text(self) -> str:
        return self.scenario.render()


def problem_id(scenario_id: str, n_constraints: int) -> str:
    return f"{scenario_id}-c{n_constraints}"


def expand(scenario_id: str, scenario: Scenario, min_constraints: int = 1) -> list[Problem]:
    """Every prefix with at least `min_constraints` constraints, shortest first."""
    return [
        Problem(problem_id(scenario_id, k), scenario_id, k, scenario.prefix(k))
        for k in range(max(1, min_constraints), scenario.n_constraints + 1)
    ]
