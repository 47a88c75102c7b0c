"""The record of one evaluated problem, as written to the run's JSONL file."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from optotrace.modeling.grading import Grade


class ProblemRecord(BaseModel):
    index: int
    type: str | None = None
    benchmark: str = "optibench"
    prompt: Any = None
    reply: str | None = None
    program: str | None = None
    spec: Any = None
    output: str | None = None
    stderr: str | None = None
    grade: Grade = Field(default_factory=Grade)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    latency_s: float = 0.0  # the agent's time
    run_s: float = 0.0  # the program's (or the solver's) time
    attempts: int = 1
    errors: list[str] = Field(default_factory=list)
    worker: str | None = None

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    @property
    def correct(self) -> bool:
        return self.grade.correct
