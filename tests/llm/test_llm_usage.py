"""Usage accounting, prices and budgets (raised before the call that would cross them)."""

from __future__ import annotations

import subprocess
import sys

import pytest
from llm_servers import FakeOpenAIServer

from optotrace.llm import BudgetExceeded, Completion, RunBudget, ScriptedLLM, Usage, UsageTotals, get_llm
from optotrace.llm.pricing import price_per_token


def test_totals_and_per_model_figures() -> None:
    with FakeOpenAIServer() as server:
        a = get_llm("openai:model-a", base_url=server.base_url, cache=False)
        for _ in range(3):
            a.complete("hi")
    usage = a.usage
    assert (usage.calls, usage.requests, usage.prompt_tokens, usage.completion_tokens) == (3, 3, 33, 21)
    assert usage.total_tokens == 54
    assert usage.by_model["model-a"].calls == 3 and usage.by_model["model-a"].total_tokens == 54
    assert usage.by_model["model-a"].priced is False  # a self-hosted server has no known price
    assert usage.cost_usd == 0.0


def test_one_usage_record_adds_and_subtracts_field_by_field() -> None:
    a = UsageTotals(calls=2, requests=3, prompt_tokens=10, completion_tokens=4, cost_usd=0.5,
                    by_model={"m": UsageTotals(calls=2, prompt_tokens=10, completion_tokens=4)})
    b = UsageTotals(calls=1, cache_hits=1, prompt_tokens=1, priced=False,
                    by_model={"m": UsageTotals(calls=1, prompt_tokens=1), "n": UsageTotals(calls=1, priced=False)})
    total = a + b
    assert (total.calls, total.cache_hits, total.requests, total.total_tokens) == (3, 1, 3, 15)
    assert total.cost_usd == 0.5 and total.priced is False
    assert total.by_model["m"].calls == 3 and total.by_model["n"].priced is False
    back = total - b  # what was spent between two snapshots
    assert back.as_dict() == a.as_dict() and back.by_model["m"].as_dict() == a.by_model["m"].as_dict()
    assert a.by_model["m"].calls == 2 and "n" not in a.by_model  # the operands are left as they were
    reply = Completion("hi", "m", Usage(prompt_tokens=7, completion_tokens=2, cost_usd=0.25), cached=True)
    assert UsageTotals.of_completion(reply) == UsageTotals(calls=1, cache_hits=1, prompt_tokens=7,
                                                           completion_tokens=2, cost_usd=0.25)


def test_a_run_budget_spends_in_the_same_record() -> None:
    budget = RunBudget(calls=5)
    with budget.active():
        ScriptedLLM(["a", "b"]).complete("one")
    assert isinstance(budget.spent["other"], UsageTotals) and budget.used.calls == 1
    restored = RunBudget(calls=5)
    restored.load_state_dict(budget.state_dict())
    assert restored.spent == budget.spent and restored.report() == budget.report()


def test_token_budget_stops_before_the_call() -> None:
    llm = ScriptedLLM(["short reply"] * 10, max_total_tokens=60)
    llm.complete("a question")  # about 10 + 3 tokens
    llm.complete("a question")
    with pytest.raises(BudgetExceeded, match="max_total_tokens=60") as info:
        for _ in range(8):
            llm.complete("a question")
    made = len(llm.requests)
    assert llm.usage.total_tokens <= 60
    assert info.value.limit == 60 and info.value.used + info.value.needed > 60
    with pytest.raises(BudgetExceeded):
        llm.complete("a question")
    assert len(llm.requests) == made  # the blocked calls never reached the model


def test_cost_budget_with_a_price_counts_max_tokens_as_the_worst_case() -> None:
    llm = ScriptedLLM(["x" * 400] * 5, price=(1e-6, 1e-4), max_cost_usd=0.02)
    first = llm.complete("q", max_tokens=100)
    assert first.usage.cost_usd == pytest.approx(first.usage.prompt_tokens * 1e-6 + 100 * 1e-4)
    with pytest.raises(BudgetExceeded, match="max_cost_usd"):
        llm.complete("q", max_tokens=100)  # 0.01 spent + up to 0.01 more would cross 0.02
    assert len(llm.requests) == 1
    assert llm.usage.cost_usd <= 0.02


def test_a_huge_prompt_is_refused_up_front() -> None:
    llm = ScriptedLLM(["never"], max_total_tokens=100)
    with pytest.raises(BudgetExceeded):
        llm.complete("word " * 1000)
    assert not llm.requests


def test_known_prices_come_from_litellms_local_cost_map_without_importing_it() -> None:
    code = (
        "import sys\n"
        "from optotrace.llm.pricing import price_per_token\n"
        "p = price_per_token('gpt-4o-mini')\n"
        "assert p is not None and p[0] > 0 and p[1] > p[0], p\n"
        "assert price_per_token('no-such-model-xyz') is None\n"
        "print('litellm' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert out.stdout.strip() == "False"


def test_an_official_openai_model_is_priced() -> None:
    llm = get_llm("openai:gpt-4o-mini", api_key="sk-test-not-used", cache=False)
    assert llm.price == price_per_token("gpt-4o-mini")


def test_cached_calls_spend_nothing(tmp_path) -> None:
    llm = ScriptedLLM(["a"], cache=tmp_path / "c.sqlite", max_total_tokens=10_000)
    llm.complete("q")
    spent = llm.usage.total_tokens
    for _ in range(5):
        assert llm.complete("q").cached
    assert llm.usage.total_tokens == spent and llm.usage.cache_hits == 5
