"""One plain-text request of a rewriting optimizer (InstructionInduction, CodeRewrite): the reply, or the
Proposal that records why there is none. A run budget that refuses the call is raised, not recorded."""

from __future__ import annotations

from typing import Any

from optotrace.optimizers.base import Proposal


def ask_plain(llm: Any, system: str, user: str, *, name: str, temperature: float, max_tokens: int | None,
              seed: int | None) -> tuple[Any, Proposal | None]:
    """(the completion, None), or (None, a Proposal holding the error) when the model call failed."""
    from optotrace.llm import BudgetExceeded, LLMError

    try:
        reply = llm.complete([{"role": "system", "content": system}, {"role": "user", "content": user}],
                             temperature=temperature, max_tokens=max_tokens, seed=seed)
    except BudgetExceeded:
        raise
    except LLMError as exc:
        return None, Proposal(error=f"{type(exc).__name__}: {exc}", via="error", names=[name])
    return reply, None
