"""Per-call token and cost tally (context-local, so concurrent problems in threads do not mix)."""

from __future__ import annotations

import contextvars
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Tally:
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    calls: int = 0
    cached: int = 0
    errors: list[str] = field(default_factory=list)

    def add(self, completion: Any) -> None:
        usage = getattr(completion, "usage", None)
        self.calls += 1
        self.cached += int(bool(getattr(completion, "cached", False)))
        if usage is not None:
            self.prompt_tokens += int(getattr(usage, "prompt_tokens", 0) or 0)
            self.completion_tokens += int(getattr(usage, "completion_tokens", 0) or 0)
            self.cost_usd += float(getattr(usage, "cost_usd", 0.0) or 0.0)


CURRENT: contextvars.ContextVar[Tally | None] = contextvars.ContextVar("optotrace_modeler_tally", default=None)


def current() -> Tally:
    tally = CURRENT.get()
    if tally is None:
        tally = Tally()
        CURRENT.set(tally)
    return tally
