"""A budget for the whole run: proposals and the workflow's own calls while scoring, kept exactly."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import optotrace as ot
from optotrace.llm import RunBudget, RunBudgetExhausted, ScriptedLLM, budget_phase
from optotrace.optimizers import OptoPrime, Trainer
from optotrace.optimizers.proposal.policy import ProposalPolicy

WORDS = [f"item {i}" for i in range(6)]


def build(opt_replies: Any, **trainer_options: Any) -> tuple[Trainer, Any, ScriptedLLM, ScriptedLLM]:
    """A workflow whose own model answers "yes" only when its instruction says so; the optimizer's model
    rewrites the instruction."""
    instruction = ot.node("Answer.", name="instruction", trainable=True, description="the system prompt",
                          role="instruction")
    agent_llm = ScriptedLLM(lambda m: "yes" if "say yes" in m[0]["content"] else "no")

    @ot.bundle()
    def answer(instruction: str, item: str) -> str:
        return agent_llm.complete([{"role": "system", "content": instruction}, {"role": "user", "content": item}],
                                  max_tokens=8).text

    def metric(example: str, output: str) -> tuple[float, str]:
        return (1.0, "right") if output == "yes" else (0.0, "the answer must be yes")

    opt_llm = ScriptedLLM(opt_replies)
    opt = OptoPrime([instruction], llm=opt_llm, max_tokens=64, policy=ProposalPolicy(retry_unchanged=False), num_candidates=2)
    trainer = Trainer(lambda w: answer(instruction, w), opt, WORDS[:4], WORDS[4:], metric=metric, minibatch_size=2,
                      concurrency=2, progress=False, **trainer_options)
    return trainer, instruction, agent_llm, opt_llm


def cycling(m: list[dict[str, Any]]) -> str:
    """Suggestions that never help, so every step spends its full share of calls."""
    return json.dumps({"reasoning": "r", "suggestion": {"instruction": f"Try {len(m[-1]['content']) % 7}."}})


def full_run_calls() -> int:
    trainer, _, agent_llm, opt_llm = build(cycling, steps=4)
    trainer.fit()
    return len(agent_llm.requests) + len(opt_llm.requests)


@pytest.mark.parametrize("limit", [0, 1, 2, 5, 9, 14, 23])
def test_a_call_budget_is_never_exceeded_and_the_report_is_exact(limit: int, tmp_path: Path) -> None:
    full = full_run_calls()
    assert full > 23
    trainer, instruction, agent_llm, opt_llm = build(cycling, steps=4, budget=limit, run_dir=tmp_path / "run")
    result = trainer.fit()
    made = len(agent_llm.requests) + len(opt_llm.requests)
    assert made == limit  # every call up to the limit was made, none past it
    assert result.stopped == "budget"
    assert result.spent["calls"] == made and result.spent["refused"] >= 1
    phases = result.spent["by_phase"]
    assert phases.get("proposal", {}).get("calls", 0) == len(opt_llm.requests)
    assert phases.get("evaluation", {}).get("calls", 0) == len(agent_llm.requests)
    assert result.spent["tokens"] == agent_llm.usage.total_tokens + opt_llm.usage.total_tokens
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["stopped"] == "budget" and summary["spent"]["calls"] == made
    assert instruction.data == "Answer."  # nothing better was found: the start is kept


def test_a_token_budget_is_never_exceeded() -> None:
    for limit in (50, 400, 1500):
        trainer, _, agent_llm, opt_llm = build(cycling, steps=4, budget={"tokens": limit})
        result = trainer.fit()
        used = agent_llm.usage.total_tokens + opt_llm.usage.total_tokens
        assert used <= limit and result.spent["tokens"] == used and result.stopped == "budget"


def test_the_run_keeps_its_best_values_when_the_budget_ends_it(tmp_path: Path) -> None:
    good = json.dumps({"reasoning": "r", "suggestion": {"instruction": "Always say yes."}})
    trainer, instruction, agent_llm, opt_llm = build([good, good] + [good] * 20, steps=4, budget=12,
                                                     run_dir=tmp_path / "run")
    result = trainer.fit()
    assert result.best_score == 1.0 and instruction.data == "Always say yes."
    assert len(agent_llm.requests) + len(opt_llm.requests) <= 12


def test_resume_after_the_budget_carries_the_spending_over(tmp_path: Path) -> None:
    trainer, _, agent_llm, opt_llm = build(cycling, steps=4, budget=13, run_dir=tmp_path / "run")
    first = trainer.fit()
    assert first.stopped == "budget"
    made_first = len(agent_llm.requests) + len(opt_llm.requests)
    trainer2, _, agent_llm2, opt_llm2 = build(cycling, steps=4, budget=200, run_dir=tmp_path / "run", resume=True)
    second = trainer2.fit()
    assert second.stopped is None and second.steps == 4
    assert second.spent["calls"] == made_first + len(agent_llm2.requests) + len(opt_llm2.requests)


def test_run_budget_on_its_own() -> None:
    llm = ScriptedLLM(lambda m: "ok")
    budget = RunBudget(calls=2)
    with budget.active(), budget_phase("proposal"):
        llm.complete("a")
        llm.complete("b")
        with pytest.raises(RunBudgetExhausted, match="budget of 2 LLM calls"):
            llm.complete("c")
    assert len(llm.requests) == 2 and budget.report()["by_phase"]["proposal"]["calls"] == 2
    llm.complete("outside the budget's context: not counted")
    assert budget.used_calls == 2
    with pytest.raises(ValueError, match="budget"):
        RunBudget.coerce("lots")  # type: ignore[arg-type]
