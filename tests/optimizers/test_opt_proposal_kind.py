"""Proposals of the right kind (issue 14): an instruction parameter gets an instruction, never the answer to
one example. The prompt and the schema say what kind of value each variable is; a proposal that answers an
example is rejected with the reason, which the retry reads. The role is declared (`role="instruction"`), never
guessed from the name. Also: the prompt style comes from the LLM's declared size (`llm.small_model`), not from
its URL."""

from __future__ import annotations

import json
from typing import Any

import pytest

import optotrace as ot
from optotrace.llm import ScriptedLLM, get_llm
from optotrace.optimizers import OptoPrime
from optotrace.optimizers.proposal.checks import (
    DEFAULT_CHECKS,
    Proposed,
    answer_like_reason,
    examples_of,
    is_instruction,
)
from optotrace.optimizers.proposal.policy import ProposalPolicy

INSTRUCTION = "Answer the question about the objects. Think step by step, then give the final count."


def reply(**suggestion: Any) -> str:
    return json.dumps({"reasoning": "r", "answer": None, "suggestion": suggestion})


def workflow(instruction: Any, question: str) -> Any:
    @ot.bundle()
    def ask_model(instruction: str, question: str) -> str:
        return "5" if "apple" in question else "3"

    return ask_model(instruction, ot.node(question, name="question"))


def one_step(proposals: list[str], **opt_kw: Any) -> tuple[OptoPrime, Any, ScriptedLLM]:
    instruction = ot.node(INSTRUCTION, name="instruction", trainable=True, description="the system prompt",
                          role="instruction")
    out = workflow(instruction, "I have an apple, two pears and four grapes. How many fruits do I have?")
    llm = ScriptedLLM(proposals)
    opt = OptoPrime([instruction], llm=llm, **opt_kw)
    out.backward("The answer is wrong: expected 7, got 5.")
    return opt, instruction, llm


@pytest.mark.parametrize(
    "answer",
    [
        "7",  # the target the feedback names
        "(B)",  # an option letter
        "5",  # the wrong output itself
        "There are 7 fruits.",  # too short for an instruction
        "I have an apple, two pears and four grapes. How many fruits do I have?",  # the question copied
    ],
)
def test_an_answer_to_one_example_is_rejected_and_the_retry_says_why(answer: str) -> None:
    fixed = "Count every object named in the question, one by one, then reply with the total as a number."
    opt, instruction, llm = one_step([reply(instruction=answer), reply(instruction=fixed)])
    update = opt.step()
    assert update == {instruction: fixed}
    retry = llm.requests[1]["messages"][-1]["content"]
    assert "looks like the answer to one example" in retry and "every input" in retry


def test_without_a_better_retry_the_answer_is_never_applied() -> None:
    opt, instruction, _ = one_step([reply(instruction="7")], policy=ProposalPolicy(retry_unchanged=False))
    assert opt.step() == {} and instruction.data == INSTRUCTION
    assert opt.rejected[-1]["name"] == "instruction" and "answer to one example" in opt.rejected[-1]["reason"]


def test_a_real_instruction_passes() -> None:
    new = "Count each object in the question, including every fruit, and answer with the total number."
    opt, instruction, _ = one_step([reply(instruction=new)])
    assert opt.step() == {instruction: new}


def test_the_prompt_and_schema_say_the_variable_is_an_instruction_for_every_input() -> None:
    opt, _, llm = one_step([reply(instruction="Count all objects and reply with the total as a number.")])
    opt.step()
    user = llm.requests[0]["messages"][-1]["content"]
    assert "instruction: must be a complete instruction that works for every input" in user
    props = llm.requests[0]["schema"]["$defs"]["OptimizerReplySuggestion"]["properties"]
    assert "not the answer to one example" in props["instruction"]["description"]


def test_the_compact_prompt_says_it_too() -> None:
    opt, _, llm = one_step([reply(instruction="Count all objects and reply with the total as a number.")],
                           policy=ProposalPolicy.small())
    opt.step()
    assert "never the answer to one example" in llm.requests[0]["messages"][-1]["content"]


def test_the_role_is_declared_not_guessed_from_the_name_or_description() -> None:
    assert is_instruction(ot.node("Be brief.", name="p", trainable=True, role="instruction"))
    assert not is_instruction(ot.node("Be brief.", name="system_prompt", trainable=True))  # a name is no role
    assert not is_instruction(ot.node("x", name="p", trainable=True, description="the instruction for the model"))
    assert not is_instruction(ot.node("Paris", name="city", trainable=True))
    assert not is_instruction(ot.node(3, name="n", trainable=True, role="instruction"))  # not text


def test_a_plain_text_parameter_may_be_short() -> None:
    city = ot.node("London", name="city", trainable=True)
    out = city + " is the capital"
    opt = OptoPrime([city], llm=ScriptedLLM([reply(city="Paris")]))
    out.backward("wrong city: France's capital is Paris")
    assert opt.step() == {city: "Paris"}


def test_examples_come_from_the_feedback_the_parameters_hold() -> None:
    instruction = ot.node(INSTRUCTION, name="instruction", trainable=True, role="instruction")
    out = workflow(instruction, "How many apples?")
    out.backward("expected 7")
    ex = examples_of([instruction])
    assert ex.outputs == ["5"] and "How many apples?" in ex.inputs and ex.feedback == ["expected 7"]
    assert answer_like_reason("instruction", "How many apples?", INSTRUCTION, ex)
    assert answer_like_reason("instruction", "Count the apples and answer with a number.", INSTRUCTION, ex) is None


# -- the prompt style follows the LLM's declared size ------------------------------------------------------
def test_prompt_style_comes_from_the_declared_size_not_the_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPTOTRACE_SMALL_MODEL", raising=False)
    x = ot.node(1.0, name="x", trainable=True)
    y = x * 2
    y.backward("too small")
    remote_on_localhost = get_llm("openai:m", base_url="http://127.0.0.1:9/v1", api_key="k")
    assert remote_on_localhost.small_model is False
    assert OptoPrime([x], llm=remote_on_localhost).is_compact() is False
    declared = get_llm("openai:m", base_url="https://example.invalid/v1", api_key="k", small_model=True)
    assert declared.small_model is True and OptoPrime([x], llm=declared).is_compact() is True
    scripted = ScriptedLLM([])
    scripted.small_model = True
    assert OptoPrime([x], llm=scripted).is_compact() is True
    monkeypatch.setenv("OPTOTRACE_SMALL_MODEL", "1")
    assert ScriptedLLM([]).small_model is True


def test_the_embedded_backend_is_small_by_default() -> None:
    from optotrace.llm.backends.local_backend import LocalLLM

    assert LocalLLM.small_by_default is True and ScriptedLLM.small_by_default is False


# -- names in the prompt come from trace's one naming rule --------------------------------------------------
def test_prompt_names_follow_trace_and_variables_keep_theirs() -> None:
    from optotrace.optimizers.proposal.prompt_graph import prompt_names
    from optotrace.trace import unique_names

    x = ot.node(1.0, name="x", trainable=True)
    other_x = ot.node(2.0, name="x")
    y = (x + other_x) + ot.node(3.0, name="c")
    nodes = [other_x, x, *y.parents, y]
    names = prompt_names(nodes, {id(x): "x"})
    assert names[id(x)] == "x" and names[id(other_x)] == "x_2"  # the variable keeps the plain name
    rest = [n for n in nodes if n is not x]
    trace_names = unique_names([x, *rest])
    assert all(names[id(n)] == trace_names[n] for n in rest)


@pytest.mark.parametrize(
    "proposal",
    [
        "Change the variable instruction to 'Answer the question.'",  # written by Qwen2.5-Coder-0.5B here
        "Change the instruction to 'Answer the question.' to the system prompt given to the model.",
        "Set instruction to: count the objects",
    ],
)
def test_a_description_of_the_change_is_not_the_new_instruction(proposal: str) -> None:
    opt, instruction, _ = one_step([reply(instruction=proposal)], policy=ProposalPolicy(retry_unchanged=False))
    assert opt.step() == {} and instruction.data == INSTRUCTION
    assert "describes a change instead of being the new value" in opt.rejected[-1]["reason"]


def test_an_instruction_that_starts_with_change_may_pass() -> None:
    new = "Change nothing in the question; count every object it names and reply with the total as a number."
    opt, instruction, _ = one_step([reply(instruction=new)])
    assert opt.step() == {instruction: new}


def test_talk_about_the_edit_is_a_users_own_check_not_the_librarys() -> None:
    """The library names no phrasing of a particular model; a user who sees one adds a check to the policy."""
    talk = "To rewrite the instruction so that it answers every question correctly, we need to handle any input."
    assert answer_like_reason("instruction", talk, INSTRUCTION, examples_of([])) is None

    def talks_about_the_edit(p: Proposed) -> str | None:
        return "it talks about the rewrite; write the instruction itself" if "rewrite" in p.value.lower() else None

    policy = ProposalPolicy(retry_unchanged=False, checks=(*DEFAULT_CHECKS, talks_about_the_edit))
    opt, instruction, _ = one_step([reply(instruction=talk)], policy=policy)
    assert opt.step() == {} and "write the instruction itself" in opt.rejected[-1]["reason"]


def test_an_instruction_for_a_prompt_rewriting_step_may_say_rewrite_the_prompt() -> None:
    current = "Rewrite the prompt so that it is shorter."
    new = "Rewrite the prompt so that it is shorter and keeps every constraint it states."
    assert answer_like_reason("instruction", new, current, examples_of([])) is None
    assert answer_like_reason("instruction", "Label the review: positive or negative, one word.", INSTRUCTION,
                              examples_of([])) is None
