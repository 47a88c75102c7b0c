"""What an agent answers for a problem, with its provenance: plain data that agents build and graders read."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class AgentResult(BaseModel):
    """An agent's answer with its provenance. Give `program` (run in the sandbox unless `output` is already
    there), or `spec` (a ModelSpec, which the evaluator solves unless `values` are given), or just `output`/`values`."""

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
