"""A budget for a whole run, across every LLM client the run uses (the optimizer's and the workflow's).

    budget = RunBudget(calls=200)                  # or tokens=50_000, or both
    with budget.active(), budget_phase("evaluation"):
        ...every complete() in this context (and in threads started with a copy of it) is counted...
    budget.report()   # {"calls": ..., "tokens": ..., "by_phase": {"proposal": {...}, "evaluation": {...}}, ...}

The budget lives in a context variable, so a Trainer's worker threads (each runs in a copy of the caller's
context) are covered without handing the budget to the workflow's own client. Each request a client is about
to send (a repair round is a request of its own; cache hits send nothing and cost nothing) first *admits*
itself: it is refused with RunBudgetExhausted, before it is made, when the calls already made or in flight
plus this one would pass `calls`, or when the tokens used or reserved plus this request's prompt estimate and
its completion cap would pass `tokens`. A request without a completion cap gets one: what is left of the
token budget after its prompt (so a backend must honour max_tokens for the token budget to hold). So a run never spends more than its budget (tokens: as far as the client's
prompt-token estimate is exact, which it is for the scripted backend and whenever the backend counts the way
the server does). After the request the reservation is replaced by the real figures.
"""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any

from optotrace.llm.errors import BudgetExceeded
from optotrace.llm.pricing import cost_usd
from optotrace.llm.results import RawReply, Request
from optotrace.llm.tokens import messages_tokens
from optotrace.llm.usage import UsageTotals

__all__ = ["RunBudget", "RunBudgetExhausted", "active_budget", "budget_phase", "current_phase"]

_BUDGET: contextvars.ContextVar[RunBudget | None] = contextvars.ContextVar("optotrace_run_budget", default=None)
_PHASE: contextvars.ContextVar[str] = contextvars.ContextVar("optotrace_budget_phase", default="other")


class RunBudgetExhausted(BudgetExceeded):
    """The run's budget (RunBudget) refused a request before it was made."""


def active_budget() -> RunBudget | None:
    return _BUDGET.get()


def current_phase() -> str:
    return _PHASE.get()


@contextmanager
def budget_phase(name: str) -> Iterator[None]:
    """Count the requests made in this block under `name` ("proposal", "evaluation", ...)."""
    token = _PHASE.set(name)
    try:
        yield
    finally:
        _PHASE.reset(token)


@dataclass
class Admission:
    """A request let through: what it reserved, and the completion cap it must be sent with (None: keep)."""

    phase: str
    tokens: int
    max_tokens: int | None
    budget: RunBudget


@dataclass
class RunBudget:
    """At most `calls` requests and `tokens` tokens (prompt + completion) for everything run under it;
    None means unlimited. `spent`: figures so far by phase; `refused`: requests turned away."""

    calls: int | None = None
    tokens: int | None = None
    spent: dict[str, UsageTotals] = field(default_factory=dict)
    refused: int = 0
    _in_flight_calls: int = 0
    _reserved_tokens: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        for name, value in (("calls", self.calls), ("tokens", self.tokens)):
            if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 0):
                raise ValueError(f"budget {name}={value!r} must be a whole number >= 0, or None for no limit")

    @classmethod
    def coerce(cls, budget: RunBudget | int | dict[str, int] | None) -> RunBudget | None:
        """`budget=` as users write it: a RunBudget, an int (LLM calls), or {"calls": n, "tokens": m}."""
        if budget is None or isinstance(budget, RunBudget):
            return budget
        if isinstance(budget, bool):
            raise ValueError("budget= takes a number of LLM calls, {'calls': n, 'tokens': m} or a RunBudget")
        if isinstance(budget, int):
            return cls(calls=budget)
        if isinstance(budget, dict) and set(budget) <= {"calls", "tokens"}:
            return cls(**budget)
        raise ValueError(
            f"budget={budget!r} is not understood; pass a number of LLM calls, {{'calls': n, 'tokens': m}} "
            "or optotrace.llm.RunBudget(calls=..., tokens=...)"
        )

    # -- totals ------------------------------------------------------------------------------------------
    @property
    def used(self) -> UsageTotals:
        """Every phase's spending together."""
        return sum(self.spent.values(), UsageTotals())

    @property
    def used_calls(self) -> int:
        return self.used.calls

    @property
    def used_tokens(self) -> int:
        return self.used.total_tokens

    @property
    def used_cost(self) -> float:
        return self.used.cost_usd

    @property
    def exhausted(self) -> bool:
        """True once a request was refused, or nothing more can be sent."""
        return self.refused > 0 or (self.calls is not None and self.used_calls >= self.calls) or (
            self.tokens is not None and self.used_tokens >= self.tokens)

    def remaining_calls(self) -> int | None:
        return None if self.calls is None else max(0, self.calls - self.used_calls - self._in_flight_calls)

    # -- the gate ----------------------------------------------------------------------------------------
    def admit(self, prompt_tokens: int, max_tokens: int | None) -> Admission:
        """Reserve one request of about `prompt_tokens` prompt tokens and at most `max_tokens` completion
        tokens, or raise RunBudgetExhausted (the request must then not be made)."""
        phase = current_phase()
        with self._lock:
            if self.calls is not None and self.used_calls + self._in_flight_calls + 1 > self.calls:
                self.refused += 1
                raise RunBudgetExhausted(
                    f"the run's budget of {self.calls} LLM calls is spent; the run stops here and keeps its best "
                    "values. Give a larger budget= to go on.", limit=self.calls, used=self.used_calls, needed=1)
            cap = max_tokens
            if self.tokens is not None:
                left = self.tokens - self.used_tokens - self._reserved_tokens - prompt_tokens
                if left < 1 or (cap is not None and cap > left):
                    self.refused += 1
                    raise RunBudgetExhausted(
                        f"the run's budget of {self.tokens} tokens is spent (the next request needs about "
                        f"{prompt_tokens} prompt tokens and up to {cap} completion tokens); the run stops here and keeps its best values. Give a "
                        "larger budget= to go on.", limit=self.tokens, used=self.used_tokens, needed=prompt_tokens)
                cap = left if cap is None else min(cap, left)
            reserved = prompt_tokens + (cap or 0)
            self._in_flight_calls += 1
            self._reserved_tokens += reserved
        return Admission(phase, reserved, cap if cap != max_tokens else None, self)

    def settle(self, admission: Admission, prompt_tokens: int | None, completion_tokens: int | None,
               cost: float = 0.0) -> None:
        """Replace the reservation with the request's real figures (None: the request failed, nothing
        was spent that the server reported; it still counts as a call made)."""
        with self._lock:
            self._in_flight_calls -= 1
            self._reserved_tokens -= admission.tokens
            request = UsageTotals(calls=1, prompt_tokens=int(prompt_tokens or 0),
                                  completion_tokens=int(completion_tokens or 0), cost_usd=float(cost))
            self.spent[admission.phase] = self.spent.get(admission.phase, UsageTotals()) + request

    def cancel(self, admission: Admission) -> None:
        with self._lock:
            self._in_flight_calls -= 1
            self._reserved_tokens -= admission.tokens

    @contextmanager
    def active(self) -> Iterator[RunBudget]:
        """Make this the budget of every request in this context (and copies of it)."""
        token = _BUDGET.set(self)
        try:
            yield self
        finally:
            _BUDGET.reset(token)

    # -- state and report --------------------------------------------------------------------------------
    def report(self) -> dict[str, Any]:
        """What the run spent: calls and tokens in all and by phase, the limits, and refused requests."""
        with self._lock:
            by_phase = {k: v.as_dict() for k, v in sorted(self.spent.items())}
        return {"calls": self.used_calls, "tokens": self.used_tokens,
                "cost_usd": sum(v["cost_usd"] for v in by_phase.values()), "limit_calls": self.calls,
                "limit_tokens": self.tokens, "refused": self.refused, "by_phase": by_phase}

    def state_dict(self) -> dict[str, Any]:
        return self.report()

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Carry a resumed run's spending over (the limits stay as this budget was built)."""
        with self._lock:
            self.spent = {k: UsageTotals(calls=int(v["calls"]), prompt_tokens=int(v["prompt_tokens"]),
                                         completion_tokens=int(v["completion_tokens"]),
                                         cost_usd=float(v.get("cost_usd", 0.0)))
                          for k, v in (state.get("by_phase") or {}).items()}
            self.refused = 0


# -- the hook the LLM client calls around each request (llm/base.py) --------------------------------------------
def admit_request(request: Request, count_tokens: Any) -> tuple[Request, Admission | None]:
    """(the request to send, its admission) under the active budget; (request, None) when there is none."""
    budget = _BUDGET.get()
    if budget is None:
        return request, None
    admission = budget.admit(messages_tokens(request.messages, count_tokens), request.max_tokens)
    if admission.max_tokens is not None:
        request = replace(request, max_tokens=admission.max_tokens)
    return request, admission


def settle_request(admission: Admission | None, raw: RawReply | None, price: tuple[float, float] | None = None) -> None:
    if admission is None:
        return
    if raw is None:
        admission.budget.settle(admission, None, None)
        return
    cost = cost_usd(price, raw.prompt_tokens, raw.completion_tokens)
    admission.budget.settle(admission, raw.prompt_tokens, raw.completion_tokens, cost)


def cancel_request(admission: Admission | None) -> None:
    """Undo an admission whose request was never sent (the client's own budget refused it)."""
    if admission is not None:
        admission.budget.cancel(admission)
