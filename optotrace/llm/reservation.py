"""The budget hooks around one request in flight: its admission to the run's budget (run_budget) and the tokens
and cost it reserves on the client's own tracker, both given back when the call ends."""

from __future__ import annotations

from collections.abc import Callable

from optotrace.llm import run_budget
from optotrace.llm.errors import BudgetExceeded
from optotrace.llm.pricing import cost_usd
from optotrace.llm.results import RawReply, Request
from optotrace.llm.tokens import messages_tokens
from optotrace.llm.usage import UsageTracker


def estimate(request: Request, count_tokens: Callable[[str], int], price: tuple[float, float] | None) -> tuple[int, float]:
    """Tokens and cost to reserve: the prompt's, plus max_tokens of completion when a cap is given."""
    prompt = messages_tokens(request.messages, count_tokens)
    completion = request.max_tokens or 0
    return prompt + completion, cost_usd(price, prompt, completion)


class Reservation:
    """Taken before a request is sent (raising BudgetExceeded, with nothing held, when a budget would be
    crossed); `release(raw)` after it ends, with the reply or None when the call failed. `request` is the one
    to send: the run's budget may have capped its max_tokens."""

    def __init__(
        self,
        request: Request,
        tracker: UsageTracker,
        count_tokens: Callable[[str], int],
        price: tuple[float, float] | None,
    ) -> None:
        self.request, self._admission = run_budget.admit_request(request, count_tokens)  # the run's budget, if any
        self._tracker, self._price = tracker, price
        self.tokens, self.cost = estimate(self.request, count_tokens, price)
        try:
            tracker.reserve(self.tokens, self.cost)
        except BudgetExceeded:
            run_budget.cancel_request(self._admission)
            raise

    def release(self, raw: RawReply | None) -> None:
        self._tracker.release(self.tokens, self.cost)
        run_budget.settle_request(self._admission, raw, self._price)
