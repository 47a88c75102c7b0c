"""Instruction induction: a plain-text instruction written from the step's worked examples."""

from __future__ import annotations

from typing import Any

import pytest
from test_opt_fewshot import TRAIN, make_agent, metric

import optotrace as ot
from optotrace.llm import ScriptedLLM
from optotrace.optimizers import InstructionInduction, OptimizerError, ProposeRace, StepContext, StepResult
from optotrace.optimizers.induction import read_instruction
from optotrace.optimizers.train.evaluation import Evaluator


def context_for(agent: Any, examples: list[dict[str, Any]]) -> StepContext:
    evaluator = Evaluator(agent, metric, concurrency=1)
    outcomes = evaluator.run_batch(examples)
    for o in outcomes:
        if o.score < 1:
            o.output.backward(o.feedback)
    return StepContext(0, examples, 0.0, outcomes, [e["input"] for e in examples])


def test_the_prompt_shows_the_examples_and_the_reply_is_the_new_instruction() -> None:
    agent, instruction, _, _ = make_agent("Say something.")
    llm = ScriptedLLM(['Instruction: "Give the label: the first letter of the input, in upper case."'])
    opt = InstructionInduction([instruction], llm=llm, objective="label every input")
    [cand] = opt.propose_candidates(context_for(agent, TRAIN[:2]))
    assert cand.update == {instruction: "Give the label: the first letter of the input, in upper case."}
    prompt = llm.requests[0]["messages"][-1]["content"]
    assert "Say something." in prompt and "Input: a1!" in prompt and "the label is A" in prompt
    assert "label every input" in prompt and "#Code" not in prompt  # short: no graph
    assert instruction.data == "Say something."  # proposed, not applied


def test_an_answer_instead_of_an_instruction_is_refused_and_the_reason_shown_next_time() -> None:
    agent, instruction, _, _ = make_agent("Say something.")
    llm = ScriptedLLM(["A", "Give the label of the input in upper case."])
    opt = InstructionInduction([instruction], llm=llm)
    [cand] = opt.propose_candidates(context_for(agent, TRAIN[:2]))
    assert cand.update == {} and "answer" in cand.rejections["instruction"]
    opt.end_step(StepResult([cand]))
    [cand] = opt.propose_candidates(context_for(agent, TRAIN[:2]))
    assert cand.update == {instruction: "Give the label of the input in upper case."}
    assert "rejected" in llm.requests[1]["messages"][-1]["content"]


def test_it_drives_a_race_and_refuses_parameters_it_cannot_write() -> None:
    agent, instruction, _, _ = make_agent("Say something.")
    llm = ScriptedLLM(lambda messages: "Give the label.")
    result = ProposeRace(agent, InstructionInduction([instruction], llm=llm), TRAIN, TRAIN, metric=metric,
                         budget=30, minibatch_size=2, concurrency=1).fit()
    assert instruction.data == "Give the label." and result.best_score > result.initial_score
    with pytest.raises(OptimizerError, match="text parameters"):
        InstructionInduction([ot.node(3, trainable=True)], llm=llm)


def test_reading_the_reply() -> None:
    assert read_instruction("```\nCount the items.\n```") == "Count the items."
    assert read_instruction("**New instruction:** 'Count the items.'") == "Count the items."
    assert read_instruction("Count the items.") == "Count the items."
    explained = ("To rewrite the instruction so that the model answers every question correctly, we need to "
                 "ensure it counts. Here's a new instruction:\n\n**New Instruction:**\nCount each item the "
                 "question asks about, then give the total as one number.\n\n**How to Work Out the Answer:**\n1. ...")
    assert read_instruction(explained) == ("Count each item the question asks about, then give the total as one "
                                           "number.")


def test_a_reply_cut_off_at_the_limit_keeps_what_it_said_completely() -> None:
    from optotrace.optimizers.induction import complete_part

    rule = "Count each item separately, then add the counts; end with the number."
    assert complete_part(rule + "\n\n1. Carrots: 4\n2. Cabb") == rule
    assert complete_part("Count each item. Then add them up. The fir") == "Count each item. Then add them up."
    assert complete_part("Count each it") == ""
