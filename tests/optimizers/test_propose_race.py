"""Propose, then race: instruction proposals and demo subsets raced on validation, within the budget."""

from __future__ import annotations

import json

import pytest
from test_opt_fewshot import TRAIN, VAL, make_agent, metric, truth

from optotrace.llm import ScriptedLLM
from optotrace.optimizers import BootstrapFewShot, OptimizerError, OptoPrime, ProposeRace

VAL_EASY_HALF = [{"input": x} for x in ("a2!", "b2", "d2", "a3!")]  # "!": right with the instruction alone


def proposer(instruction: str) -> ScriptedLLM:
    return ScriptedLLM(lambda messages: json.dumps({"reasoning": "r", "suggestion": {"instruction": instruction}}))


def test_the_instruction_and_the_demos_are_combined_when_each_helps() -> None:
    agent, instruction, examples, workflow_llm = make_agent("Say something.")
    opt_llm = proposer("Give the label.")
    labeled = [{"input": e["input"], "output": truth(e["input"])} for e in TRAIN]
    search = ProposeRace(agent, [OptoPrime([instruction], llm=opt_llm), BootstrapFewShot(examples, labeled=labeled)],
                         TRAIN, VAL_EASY_HALF, metric=metric, budget=80, minibatch_size=2, seed=0, concurrency=1,
                         min_lead=1)  # four examples: a lead of one is what the demos can show here
    result = search.fit()
    assert result.initial_score == 0.0
    assert instruction.data == "Give the label."  # the proposal won the race
    assert examples.data and result.details["chosen"] == "optoprime+demos"  # and the demos raised it further
    assert result.best_score > 0.5 and result.best_values["instruction"] == "Give the label."  # 0.5: no demos
    assert {c["source"] for c in result.details["candidates"]} >= {"optoprime", "demos"}
    cycle = [c for c in result.details["candidates"] if c.get("cycle")]  # the calls the races left went to one more cycle
    assert cycle and all(c["source"] in ("optoprime", "demos") for c in cycle)
    assert result.spent["calls"] <= 80 and result.spent["calls"] == len(opt_llm.requests) + len(
        workflow_llm.requests)


def test_nothing_better_keeps_the_start_and_the_budget_is_kept_exactly() -> None:
    agent, instruction, examples, workflow_llm = make_agent("Say something.")
    opt_llm = proposer("Say something else.")
    result = ProposeRace(agent, OptoPrime([instruction], llm=opt_llm), TRAIN, VAL, metric=metric, budget=11,
                         minibatch_size=2, concurrency=1).fit()
    assert instruction.data == "Say something." and result.details["chosen"] == "current"
    assert result.spent["calls"] <= 11 and result.stopped in (None, "budget")


def test_clear_errors_for_a_search_it_cannot_run() -> None:
    agent, instruction, *_ = make_agent()
    with pytest.raises(OptimizerError, match="budget"):
        ProposeRace(agent, OptoPrime([instruction], llm=ScriptedLLM([])), TRAIN, VAL, metric=metric)
    with pytest.raises(OptimizerError, match="valset"):
        ProposeRace(agent, OptoPrime([instruction], llm=ScriptedLLM([])), TRAIN, [], metric=metric, budget=5)
    with pytest.raises(OptimizerError, match="propose candidates"):
        ProposeRace(agent, object(), TRAIN, VAL, metric=metric, budget=5)  # type: ignore[arg-type]


def test_a_later_cycle_proposes_from_the_failures_and_keeps_what_wins() -> None:
    agent, instruction, _examples, workflow_llm = make_agent("Say something.")
    replies = iter(["Say something else.", "Give the label."])
    opt_llm = ScriptedLLM(lambda messages: json.dumps({"reasoning": "r", "suggestion": {"instruction": next(replies)}}))
    result = ProposeRace(agent, OptoPrime([instruction], llm=opt_llm), TRAIN, VAL_EASY_HALF, metric=metric,
                         budget=40, rounds=1, minibatch_size=2, concurrency=1).fit()
    assert instruction.data == "Give the label." and result.details["chosen"] == "optoprime"  # found by the cycle
    assert [c["source"] for c in result.details["candidates"] if c.get("cycle")][0] == "optoprime"
    assert result.best_score == 0.5 and result.spent["calls"] <= 40
    assert result.spent["calls"] == len(opt_llm.requests) + len(workflow_llm.requests)
