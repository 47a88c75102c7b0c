"""One optimization word problem with its gold values: the plain data an agent solves and a grader checks.

Benchmarks load them (optotrace.benchmarks.problem adds the OptiBench item and the dataset); agents read them."""

from __future__ import annotations

import math
import re

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

# Words that mark a result key as the objective (used to pick `objective_key` when a file does not say).
_OBJECTIVE_WORDS = re.compile(
    r"\b(profit|cost|revenue|objective|total|minimum|maximum|minimal|maximal|max|min|least|"
    r"largest|smallest|optimal|minimized|maximized|sum|area|volume|income|return|earnings|utility)\b",
    re.IGNORECASE,
)


def guess_objective_key(keys: list[str]) -> str | None:
    """The last key that reads like an objective ("The total profit"), else the last key.

    OptiBench's reference programs print the objective last in about 85% of items; the word test
    recovers most of the rest (items whose last key is a decision variable)."""
    if not keys:
        return None
    for key in reversed(keys):
        if _OBJECTIVE_WORDS.search(key):
            return key
    return keys[-1]


class Problem(BaseModel):
    """A question with its gold values. `results` maps each printed label to its gold number."""

    model_config = ConfigDict(extra="ignore")

    index: int
    question: str = Field(min_length=1)
    type: str | None = None
    results: dict[str, float] = Field(default_factory=dict)
    objective_key: str | None = None
    code: str | None = None  # the reference program (e-opt.json); reference data, run only in the sandbox
    benchmark: str = "optibench"

    @field_validator("results", mode="before")
    @classmethod
    def _numbers(cls, value: object) -> object:
        if not isinstance(value, dict):
            raise ValueError("must be an object mapping labels to numbers")
        out: dict[str, float] = {}
        for key, raw in value.items():
            try:
                num = float(str(raw).replace(",", "").strip()) if isinstance(raw, str) else float(raw)
            except (TypeError, ValueError):
                raise ValueError(f"value of {key!r} is not a number: {raw!r}") from None
            if math.isnan(num):
                raise ValueError(f"value of {key!r} is NaN")
            out[str(key)] = num
        return out

    @model_validator(mode="after")
    def _objective(self) -> Problem:
        if self.objective_key is None:
            self.objective_key = guess_objective_key(list(self.results))
        return self

    @property
    def is_linear(self) -> bool | None:
        return None if not self.type else self.type.startswith("linear")

    @property
    def has_table(self) -> bool | None:
        return None if not self.type else self.type.endswith("-table")

    @property
    def gold_objective(self) -> float | None:
        return self.results.get(self.objective_key) if self.objective_key else None
