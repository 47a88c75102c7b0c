"""What an agent may return for a problem: a program, a ModelSpec, or an AgentResult carrying either.
`AgentResult` itself lives in modeling (agents build it without importing benchmarks)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from optotrace.modeling.answer import AgentResult
from optotrace.modeling.problem import Problem

__all__ = ["Agent", "AgentResult", "as_result"]

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
