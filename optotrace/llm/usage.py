"""Usage accounting and budgets for one client: totals, per-model figures, and reservations.

A call first *reserves* its estimated prompt tokens (and their cost); the reservation fails with
BudgetExceeded when used + reserved + estimate would cross a budget, so concurrent calls cannot jointly
overshoot. After the call the reservation is released and the real figures are added.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field, replace
from typing import Any

from optotrace.llm.errors import BudgetExceeded
from optotrace.llm.results import Usage

_SUMMED = ("calls", "cache_hits", "requests", "prompt_tokens", "completion_tokens", "cost_usd")


@dataclass
class UsageTotals:
    """What LLM calls spent: `llm.usage` (a snapshot), one model's share of it (`by_model`), one phase of a run
    (RunBudget.spent), one problem of an agent. `calls` counts complete() calls, `cache_hits` those answered
    by the cache, `requests` the backend calls made (retries and repair rounds included). Cached calls spend
    no tokens; `priced` is False where a model's price is unknown (its cost counts as 0). `+` and `-` work
    field by field, `by_model` included."""

    calls: int = 0
    cache_hits: int = 0
    requests: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    priced: bool = True
    by_model: dict[str, UsageTotals] = field(default_factory=dict)

    @classmethod
    def of_completion(cls, completion: Any) -> UsageTotals:
        """One complete() call as a record (anything with `.usage` and `.cached`, like a Completion)."""
        usage = getattr(completion, "usage", None)
        return cls(
            calls=1,
            cache_hits=int(bool(getattr(completion, "cached", False))),
            prompt_tokens=int(getattr(usage, "prompt_tokens", 0) or 0),
            completion_tokens=int(getattr(usage, "completion_tokens", 0) or 0),
            cost_usd=float(getattr(usage, "cost_usd", 0.0) or 0.0),
        )

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def _combine(self, other: UsageTotals, sign: int) -> UsageTotals:
        summed = {name: getattr(self, name) + sign * getattr(other, name) for name in _SUMMED}
        by_model = {model: replace(part) for model, part in self.by_model.items()}
        for model, part in other.by_model.items():
            by_model[model] = by_model.get(model, UsageTotals(priced=part.priced))._combine(part, sign)
        return UsageTotals(**summed, priced=self.priced and other.priced, by_model=by_model)

    def __add__(self, other: object) -> UsageTotals:
        if not isinstance(other, UsageTotals):
            return NotImplemented
        return self._combine(other, 1)

    def __sub__(self, other: object) -> UsageTotals:
        """What was spent between two snapshots: `later - earlier`."""
        if not isinstance(other, UsageTotals):
            return NotImplemented
        return self._combine(other, -1)

    def as_dict(self) -> dict[str, Any]:
        """The figures as plain JSON values (tokens: prompt + completion); by_model is left out."""
        return {"calls": self.calls, "tokens": self.total_tokens, "prompt_tokens": self.prompt_tokens,
                "completion_tokens": self.completion_tokens, "cost_usd": self.cost_usd}

    def summary(self) -> str:
        return (
            f"{self.calls} calls ({self.cache_hits} from cache, {self.requests} requests), "
            f"{self.total_tokens} tokens ({self.prompt_tokens} prompt + {self.completion_tokens} completion), "
            f"${self.cost_usd:.4f}"
        )

    def __str__(self) -> str:
        return self.summary()


class UsageTracker:
    def __init__(self, max_total_tokens: int | None = None, max_cost_usd: float | None = None) -> None:
        self.max_total_tokens = max_total_tokens
        self.max_cost_usd = max_cost_usd
        self._totals = UsageTotals()
        self._reserved_tokens = 0
        self._reserved_cost = 0.0
        self._lock = threading.Lock()

    def snapshot(self) -> UsageTotals:
        with self._lock:
            by_model = {k: replace(v) for k, v in self._totals.by_model.items()}
            return replace(self._totals, by_model=by_model)

    def reserve(self, tokens: int, cost: float) -> None:
        """Hold `tokens` and `cost` for a call about to be made, or raise BudgetExceeded."""
        with self._lock:
            t = self._totals
            if self.max_total_tokens is not None:
                used = t.total_tokens + self._reserved_tokens
                if used + tokens > self.max_total_tokens:
                    raise BudgetExceeded(
                        f"token budget exceeded: {used} tokens used or reserved, the next call needs about "
                        f"{tokens} prompt tokens, max_total_tokens={self.max_total_tokens}. Raise "
                        "max_total_tokens, shorten the prompt, or start a new client.",
                        limit=self.max_total_tokens,
                        used=used,
                        needed=tokens,
                    )
            if self.max_cost_usd is not None:
                used_cost = t.cost_usd + self._reserved_cost
                if used_cost + cost > self.max_cost_usd:
                    raise BudgetExceeded(
                        f"cost budget exceeded: ${used_cost:.6f} spent or reserved, the next call needs about "
                        f"${cost:.6f}, max_cost_usd={self.max_cost_usd}. Raise max_cost_usd or start a new client.",
                        limit=self.max_cost_usd,
                        used=used_cost,
                        needed=cost,
                    )
            self._reserved_tokens += tokens
            self._reserved_cost += cost

    def release(self, tokens: int, cost: float) -> None:
        with self._lock:
            self._reserved_tokens -= tokens
            self._reserved_cost -= cost

    def add_request(self, model: str, usage: Usage, *, priced: bool) -> None:
        request = UsageTotals(requests=1, prompt_tokens=usage.prompt_tokens, completion_tokens=usage.completion_tokens,
                              cost_usd=usage.cost_usd, priced=priced)
        self._add(model, request)

    def add_call(self, model: str, *, cached: bool) -> None:
        self._add(model, UsageTotals(calls=1, cache_hits=int(cached)))

    def _add(self, model: str, part: UsageTotals) -> None:
        with self._lock:
            self._totals = self._totals + replace(part, by_model={model: part})
