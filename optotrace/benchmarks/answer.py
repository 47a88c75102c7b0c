"""What an agent may return for a problem: a program, a ModelSpec, or an AgentResult carrying either."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from optotrace.benchmarks.problem import Problem


class AgentResult(BaseModel):
    """An agent's answer with its provenance. Give `program` (run in the sandbox unless `output` is already
    there), or `spec` (a ModelSpec, solved here unless `values` are given), or just `output`/`values`."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    program: str | None = None
    spec: Any = None
    output: str | None = None  # what the program printed (an agent that already ran it passes it on)
    code_ok: bool | None = None  # whether that run was clean (None: not run yet)
    values: dict[str, float | None] | None = None  # label -> value, when the agent reports them directly
    prompt: Any = None
    reply: str | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    attempts: int = 1
    errors: list[str] = Field(default_factory=list)
    failure: str | None = None  # why the agent gave no usable answer


Agent = Callable[[Problem], Any]  # returns str (a program), a ModelSpec, or an AgentResult


def as_result(answer: Any) -> AgentResult:
    """Normalise whatever an agent returned."""
    if isinstance(answer, AgentResult):
        return answer
    if isinstance(answer, str):
        return AgentResult(program=answer)
    if answer is None:
        return AgentResult(failure="the agent returned nothing")
    if hasattr(answer, "model_dump"):
        return AgentResult(spec=answer)
    return AgentResult(failure=f"the agent returned a {type(answer).__name__}, not a program, ModelSpec or AgentResult")
