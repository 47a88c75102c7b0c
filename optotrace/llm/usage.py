"""Usage accounting and budgets for one client: totals, per-model figures, and reservations.

A call first *reserves* its estimated prompt tokens (and their cost); the reservation fails with
BudgetExceeded when used + reserved + estimate would cross a budget, so concurrent calls cannot jointly
overshoot. After the call the reservation is released and the real figures are added.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field, replace

from optotrace.llm.errors import BudgetExceeded
from optotrace.llm.results import Usage


@dataclass
class ModelUsage:
    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    priced: bool = True

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


@dataclass
class UsageTotals:
    """`llm.usage`: a snapshot. `calls` counts complete() calls, `cache_hits` those answered by the cache,
    `requests` the backend calls made (retries and repair rounds included). Cached calls spend no tokens."""

    calls: int = 0
    cache_hits: int = 0
    requests: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    by_model: dict[str, ModelUsage] = field(default_factory=dict)

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

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
        with self._lock:
            t = self._totals
            t.requests += 1
            t.prompt_tokens += usage.prompt_tokens
            t.completion_tokens += usage.completion_tokens
            t.cost_usd += usage.cost_usd
            m = t.by_model.setdefault(model, ModelUsage(priced=priced))
            m.prompt_tokens += usage.prompt_tokens
            m.completion_tokens += usage.completion_tokens
            m.cost_usd += usage.cost_usd

    def add_call(self, model: str, *, cached: bool) -> None:
        with self._lock:
            self._totals.calls += 1
            self._totals.cache_hits += int(cached)
            self._totals.by_model.setdefault(model, ModelUsage()).calls += 1
