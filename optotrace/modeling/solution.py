"""Solution: what solve() returns."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

Status = Literal["optimal", "feasible", "infeasible", "unbounded", "time_limit", "error"]


def value_key(name: str, index: tuple[object, ...] | object = ()) -> str:
    """The key of a variable in `Solution.values`: "x" for a scalar, "x[1]", "x[A,B]" for indexed ones."""
    if not isinstance(index, tuple):
        index = (index,)
    return f"{name}[{','.join(str(i) for i in index)}]" if index else name


class Solution(BaseModel):
    """The result of solve(). Infeasible and unbounded models are results (status), not exceptions.

    `values` maps flat keys to numbers: "x" for a scalar variable, "x[1]" / "x[A,B]" for an element of an
    indexed one (elements joined by commas, no quotes); `value("x", "A", "B")` looks one up. With status
    "time_limit", `objective` and `values` hold the best solution found when there is one (else None / {}).
    Integer variables' values are rounded when they are within 1e-6 of an integer.
    """

    status: Status
    objective: float | None = None
    values: dict[str, float] = Field(default_factory=dict)
    solver: str = ""
    problem_class: str = ""
    time_s: float = 0.0
    message: str = ""

    @property
    def ok(self) -> bool:
        """A solution is available (optimal or feasible)."""
        return self.status in ("optimal", "feasible")

    def value(self, name: str, *index: object) -> float | None:
        return self.values.get(value_key(name, tuple(index)))
