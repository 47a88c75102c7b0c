"""OptiBench's problems and the list of problems a loader returns; the plain `Problem` lives in modeling."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, field_validator

from optotrace.modeling.problem import Problem, guess_objective_key

Category = Literal["linear-notable", "linear-table", "nonlinear-notable", "nonlinear-table"]
CATEGORIES: tuple[str, ...] = ("linear-notable", "linear-table", "nonlinear-notable", "nonlinear-table")

__all__ = ["CATEGORIES", "Category", "Dataset", "OptiBenchProblem", "Problem", "RecordIssue", "guess_objective_key"]


class OptiBenchProblem(Problem):
    """An OptiBench item: the type is one of the four categories and at least one result is given."""

    type: Category  # type: ignore[assignment]

    @field_validator("results")
    @classmethod
    def _non_empty(cls, value: dict[str, float]) -> dict[str, float]:
        if not value:
            raise ValueError("must hold at least one gold value")
        return value


class RecordIssue(BaseModel):
    """A record that did not load: its position in the file, its index when readable, the field and why."""

    position: int
    index: int | str | None = None
    field: str
    message: str

    def __str__(self) -> str:
        where = f"record {self.position}" + (f" (index {self.index})" if self.index is not None else "")
        return f"{where}: field {self.field!r}: {self.message}"


class Dataset(list[Problem]):
    """The problems that loaded, plus `issues` for the records that did not."""

    def __init__(self, problems: list[Problem], issues: list[RecordIssue], source: str = "") -> None:
        super().__init__(problems)
        self.issues = issues
        self.source = source

    def by_index(self) -> dict[int, Problem]:
        return {p.index: p for p in self}
