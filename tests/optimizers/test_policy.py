"""Small-model tactics as one policy object (issue 21): `ProposalPolicy.for_llm` chooses from the LLM's declared
size, a user's `policy=` wins; a parameter's role is declared (`role="instruction"`), never guessed; the answer
space is the task's (`answers=`), never a label list in the library."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest

import optotrace as ot
from optotrace.llm import ScriptedLLM
from optotrace.optimizers import OPRO, CodeRewrite, InstructionInduction, OptoPrime, TextGrad
from optotrace.optimizers.induction import read_instruction
from optotrace.optimizers.proposal.checks import answer_like_reason, examples_of, matches_answers
from optotrace.optimizers.proposal.policy import ProposalPolicy

INSTRUCTION = "Read the message and decide whether it is spam; reply with one word."


def reply(**suggestion: Any) -> str:
    return json.dumps({"reasoning": "r", "answer": None, "suggestion": suggestion})


def scripted(replies: list[str], small: bool) -> ScriptedLLM:
    llm = ScriptedLLM(replies)
    llm.small_model = small
    return llm


def one_step(value: str, *, role: str | None = "instruction", current: str = INSTRUCTION,
             **opt_kw: Any) -> tuple[OptoPrime, Any]:
    p = ot.node(current, name="prompt", trainable=True, role=role)

    @ot.bundle()
    def classify(prompt: str, message: str) -> str:
        return "unsure"

    out = classify(p, ot.node("WIN A FREE PRIZE NOW", name="message"))
    opt = OptoPrime([p], llm=ScriptedLLM([reply(prompt=value)]),
                    **{"policy": ProposalPolicy(retry_unchanged=False), **opt_kw})
    out.backward("wrong: expected spam")
    return opt, p


# -- the policy ------------------------------------------------------------------------------------------
def test_the_policy_follows_the_declared_size_of_the_llm() -> None:
    small = ProposalPolicy.for_llm(scripted([], small=True))
    capable = ProposalPolicy.for_llm(scripted([], small=False))
    assert small.compact and not small.reasoning_first and small.max_retries == 2
    assert not capable.compact and capable.reasoning_first and capable.max_retries == 1
    assert ProposalPolicy.for_llm(object()) == ProposalPolicy()  # declares nothing: capable
    assert ProposalPolicy.for_llm(scripted([], small=True), max_retries=5).max_retries == 5
    x = ot.node(1.0, name="x", trainable=True)
    for cls in (OptoPrime, OPRO, TextGrad):
        assert cls([x], llm=scripted([], small=True)).policy.compact is True
        assert cls([x], llm=scripted([], small=False)).policy.compact is False
    text = ot.node("Say hi.", name="p", trainable=True, role="instruction")
    assert InstructionInduction([text], llm=scripted([], small=True)).policy == ProposalPolicy.small()


def test_a_policy_the_user_passes_wins_over_the_declared_size() -> None:
    x = ot.node(1.0, name="x", trainable=True)
    mine = ProposalPolicy(retry_unchanged=False, candidate_temperature=0.3)
    opt = OptoPrime([x], llm=scripted([], small=True), policy=mine)
    assert opt.policy == mine and opt.is_compact() is False
    with pytest.raises(Exception, match="ProposalPolicy"):
        OptoPrime([x], llm=ScriptedLLM([]), policy={"compact": True})  # type: ignore[arg-type]


def test_the_small_policy_gives_the_compact_prompt_and_the_suggestion_first() -> None:
    x = ot.node(1.0, name="x", trainable=True)
    (x * 2).backward("too small")
    llm = scripted([reply(x=2.0)], small=True)
    opt = OptoPrime([x], llm=llm)
    assert opt.step() == {x: 2.0}
    schema = json.dumps(llm.requests[0]["schema"])
    assert schema.index("suggestion") < schema.index("reasoning")  # the suggestion first for a small model


def test_optoprime_keeps_only_the_arguments_a_user_chooses() -> None:
    import inspect

    args = set(inspect.signature(OptoPrime).parameters)
    assert args == {"params", "llm", "memory_size", "objective", "num_candidates", "max_tokens", "temperature",
                    "seed", "policy", "answers"}


def test_retries_follow_the_policy() -> None:
    x = ot.node(0.0, name="x", trainable=True)
    (x * 2).backward("too small")
    llm = ScriptedLLM([reply(x=0.0), reply(x=0.0), reply(x=0.0), reply(x=4.0)])
    opt = OptoPrime([x], llm=llm, policy=ProposalPolicy(max_retries=3, retry_temperature=0.5,
                                                       retry_wording={"unchanged": "SAME {name}"}))
    assert opt.step() == {x: 4.0}
    assert [r["temperature"] for r in llm.requests] == [0.0, 0.5, 0.5, 0.5]
    assert "SAME x" in llm.requests[1]["messages"][-1]["content"]


# -- the role ----------------------------------------------------------------------------------------------
def test_the_role_is_declared_on_the_node() -> None:
    assert ot.node("Be brief.", name="system_prompt", trainable=True).role == "value"  # the name is no role
    p = ot.node("Be brief.", trainable=True, role="instruction")
    assert p.role == "instruction" and copy.deepcopy(p).role == "instruction"
    assert ot.node(p, trainable=True) is p
    with pytest.raises(ValueError, match="cannot change its role"):
        ot.node(p, trainable=True, role="value")
    with pytest.raises(ValueError, match="not a role"):
        ot.node("x", trainable=True, role="prompt")
    with pytest.raises(ValueError, match="trainable"):
        ot.node("x", role="instruction")

    @ot.bundle(trainable=True)
    def f(x: int) -> int:
        return x

    assert f.parameter.role == "code"
    p.role = None
    assert p.role == "value"


def test_the_role_is_read_by_the_prompt() -> None:
    opt, _ = one_step("Decide whether the message is spam or ham and reply with that one word.")
    user = opt.build_prompt().user
    assert "must be a complete instruction" in user
    opt, _ = one_step("Decide whether the message is spam or ham and reply with that one word.", role=None)
    assert "must be a complete instruction" not in opt.build_prompt().user


# -- the answer space is the task's ------------------------------------------------------------------------
@pytest.mark.parametrize("answers", [{"spam", "ham"}, ["Spam", "Ham"], lambda s: s.strip().lower() in ("spam", "ham")])
def test_an_answer_from_the_tasks_answer_space_is_refused_with_what_to_fix(answers: Any) -> None:
    opt, p = one_step("spam", answers=answers)
    assert opt.step() == {} and p.data == INSTRUCTION
    reason = opt.rejected[-1]["reason"]
    assert "is an answer, not an instruction" in reason and "how to choose the answer for any input" in reason
    assert ("'ham', 'spam'" in reason.lower()) or "answer check" in reason


def test_answers_through_the_policy_work_too_and_the_optimizer_argument_wins() -> None:
    opt, _ = one_step("ham.", policy=ProposalPolicy(retry_unchanged=False, answers={"spam", "ham"}))
    assert opt.step() == {} and "task's answers" in opt.rejected[-1]["reason"]
    opt, p = one_step("ham", policy=ProposalPolicy(retry_unchanged=False, answers={"ham"}), answers={"other"},
                      current="Classify it.")
    assert opt.step() == {p: "ham"}


def test_without_declared_answers_a_label_word_is_not_refused_by_a_built_in_list() -> None:
    # "ham" is no example's output or input here, and the library keeps no list of labels.
    opt, p = one_step("ham", current="Classify it.")  # short: a one-word value is no cut of a long instruction
    assert opt.step() == {p: "ham"}


def test_a_parameter_not_declared_an_instruction_is_never_refused_for_looking_like_an_answer() -> None:
    for value in ("spam", "7", "(B)", "WIN A FREE PRIZE NOW"):
        opt, p = one_step(value, role=None, answers={"spam", "ham"})
        assert opt.step() == {p: value}, value


def test_an_instruction_that_lists_the_answers_passes() -> None:
    new = "Decide whether the message is spam or ham and reply with that one word."
    opt, p = one_step(new, answers={"spam", "ham"})
    assert opt.step() == {p: new}


def test_the_generic_checks_stay() -> None:
    ex = examples_of([])
    assert answer_like_reason("prompt", "7", INSTRUCTION, ex)  # a bare number
    assert answer_like_reason("prompt", "answer = classify(prompt=prompt, message=message)", INSTRUCTION, ex)
    assert answer_like_reason("prompt", "Be short.", INSTRUCTION, ex)  # far shorter than what it replaces
    assert answer_like_reason("prompt", "Set prompt to 'be short'", INSTRUCTION, ex)  # an edit command
    assert answer_like_reason("prompt", "Decide whether the message is spam; reply with one word only.",
                              INSTRUCTION, ex) is None
    assert matches_answers(" Spam. ", {"spam"}) and not matches_answers("spam filter", {"spam"})
    assert not matches_answers("x", lambda s: 1 / 0)  # a validator that fails accepts nothing


def test_induction_refuses_an_answer_from_its_answers() -> None:
    p = ot.node(INSTRUCTION, name="prompt", trainable=True, role="instruction")
    out = p + " | WIN A FREE PRIZE NOW"
    out.backward("wrong: expected spam")
    opt = InstructionInduction([p], llm=ScriptedLLM(["ham"]), answers={"spam", "ham"})
    [cand] = opt.propose_candidates()
    assert cand.update == {} and "is an answer" in cand.rejections["prompt"]


def test_induction_reads_a_reply_under_a_heading_without_naming_a_phrase() -> None:
    reply_text = ("Some thoughts about the examples first. Here is the rewritten text:\n\n**Rewritten:**\n"
                  "Decide whether the message is spam.\n\n**Why:**\n1. The examples ...")
    assert read_instruction(reply_text) == "Decide whether the message is spam."
    assert read_instruction("Prompt: Decide whether it is spam.", name="prompt") == "Decide whether it is spam."
    assert read_instruction("Note: spam is unwanted mail. Decide.") == "Note: spam is unwanted mail. Decide."
    steps = "Do this:\n\n1. Read the message.\n2. Reply spam or ham."
    assert read_instruction(steps) == steps  # a list after "Do this:" is the instruction itself


def test_code_rewrite_takes_the_policy() -> None:
    @ot.bundle(trainable=True)
    def f(x: int) -> int:
        return x

    opt = CodeRewrite([f.parameter], llm=ScriptedLLM([]), policy=ProposalPolicy(code_retry_temperature=0.2))
    assert opt.policy.code_retry_temperature == 0.2


# -- no task's labels and no one model's phrasing in the library -----------------------------------------------
LLM_OPTIMIZER_FILES = ["base.py", "optoprime.py", "induction.py", "opro.py", "textgrad.py", "code_rewrite.py",
                       "fewshot.py", "optimize.py", "strategies.py"]


def _sources() -> dict[Path, str]:
    root = Path(ot.__file__).parent / "optimizers"
    files = [root / f for f in LLM_OPTIMIZER_FILES] + sorted((root / "proposal").rglob("*.py"))
    files += sorted((root / "proposal" / "prompts").glob("*.txt"))
    return {f: f.read_text() for f in files if f.exists()}


def test_the_llm_optimizers_name_no_task_labels_and_no_models_phrasing() -> None:
    sources = _sources()
    assert len(sources) > 10
    for path, text in sources.items():
        for word in ("positive", "negative", "neutral"):
            assert not re.search(rf"\b{word}\b", text, re.I), f"{path.name} names the label {word!r}"
        assert "New Instruction" not in text, path.name
        assert not re.search(r"to rewrite the instruction", text, re.I), path.name


def test_no_label_list_anywhere_under_optimizers() -> None:
    # numeric/ and bayes/ speak of positive numbers; what must not appear is a label as a quoted string or an
    # alternative in a pattern.
    root = Path(ot.__file__).parent / "optimizers"
    for path in root.rglob("*.py"):
        text = path.read_text()
        found = re.search(r"[\"'|](?:positive|negative|neutral)[\"'|]", text, re.I)
        assert found is None, f"{path.relative_to(root)}: {found.group(0) if found else ''}"
        assert "New Instruction" not in text and "To rewrite the instruction" not in text, path.name
