"""What one problem's LLM calls spent and the errors they hit (context-local, so concurrent problems in threads
do not mix)."""

from __future__ import annotations

import contextvars
from dataclasses import dataclass, field
from typing import Any

from optotrace.llm.usage import UsageTotals


@dataclass
class Tally:
    usage: UsageTotals = field(default_factory=UsageTotals)
    errors: list[str] = field(default_factory=list)


CURRENT: contextvars.ContextVar[Tally | None] = contextvars.ContextVar("optotrace_modeler_tally", default=None)


def current() -> Tally:
    tally = CURRENT.get()
    if tally is None:
        tally = Tally()
        CURRENT.set(tally)
    return tally


def record_call(completion: Any) -> None:
    """Count one complete() call's tokens and cost for the current problem."""
    tally = current()
    tally.usage = tally.usage + UsageTotals.of_completion(completion)
