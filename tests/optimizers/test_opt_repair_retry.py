"""The code-repair step before a code suggestion is rejected, the bounded retry within one step, placeholder
rejection and the compact prompt for small local models (all with the scripted LLM)."""

from __future__ import annotations

import json
from typing import Any

import pytest

import optotrace as ot
from optotrace.llm import ScriptedLLM
from optotrace.optimizers import OptoPrime, SuggestionRejected, validate_suggestion
from optotrace.optimizers.validate import check_code, repair_candidates

ORIGINAL = 'def is_leap(year: int) -> bool:\n    """Doc."""\n    return year % 4 == 0\n'
SIG = "(year: int) -> bool"
FIXED = "def is_leap(year: int) -> bool:\n    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)\n"


def reply(**suggestion: Any) -> str:
    return json.dumps({"reasoning": "r", "answer": None, "suggestion": suggestion})


@pytest.mark.parametrize(
    "raw",
    [
        FIXED,  # already clean
        "```python\n" + FIXED + "```\nThis checks the century rule.",  # fence and a trailing explanation
        "Here is the fix:\n" + FIXED + "\nIt now handles centuries.",  # prose before and after, no fence
        FIXED.replace("\n", "\\n"),  # literal \n sequences instead of newlines
        "        " + FIXED.replace("\n", "\n        "),  # indented as a whole
        "return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)",  # the body without its def line
        FIXED + "\nassert is_leap(2000) == True\nassert is_leap(19",  # a cut-off tail of test calls
        FIXED.rstrip("\n") + ' } }\n\n#Outputs\nTrue\n',  # JSON closers and echoed sections after the code
    ],
)
def test_code_repair_recovers_the_function(raw: str) -> None:
    assert check_code(raw, "is_leap", SIG, original=ORIGINAL) == FIXED


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("def is_leap(year: int) -> bool: ", "does not compile"),  # a signature with no body is not repaired
        ("True", "must define `def is_leap"),  # not a body: nothing is invented
        ("is_leap = True", "must define `def is_leap"),
        ("def is_leap(year, month):\n    return True", "keep its signature"),  # the checks still apply
        ("def leap(year: int) -> bool:\n    return True", "must define `def is_leap"),
        ("def is_leap(year: int) -> bool:\n    return (", "does not compile"),
    ],
)
def test_code_repair_never_loosens_the_checks(raw: str, reason: str) -> None:
    with pytest.raises(SuggestionRejected, match=reason):
        check_code(raw, "is_leap", SIG, original=ORIGINAL)


def test_mixed_tabs_and_spaces_are_converted() -> None:
    raw = "def f(x):\n\tif x:\n        return 1\n\treturn 0"
    assert check_code(raw, "f", "(x)") == "def f(x):\n    if x:\n        return 1\n    return 0\n"


def test_repair_candidates_start_with_the_mechanical_cleanup() -> None:
    cands = repair_candidates("```python\n\tdef f(x):\n\t\treturn x\n```", "f")
    assert cands[0] == "def f(x):\n    return x"


@pytest.mark.parametrize("value", ["<new text>", "...", " <new instruction> ", "…"])
def test_placeholder_copies_are_rejected(value: str) -> None:
    p = ot.node("Read the review.", name="instruction", trainable=True)
    with pytest.raises(SuggestionRejected, match="placeholder"):
        validate_suggestion(p, value)


def test_code_parameter_gets_the_repair_in_a_step() -> None:
    @ot.bundle(trainable=True)
    def is_leap(year: int) -> bool:
        return year % 4 == 0

    out = is_leap(1900)
    llm = ScriptedLLM([reply(__code_is_leap="return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)")])
    opt = OptoPrime([is_leap.parameter], llm=llm, retry_unchanged=False)
    out.backward("is_leap(1900) returned True, but the test expects False")
    update = opt.step()
    assert update and "year % 400 == 0" in is_leap.parameter.data
    assert is_leap.parameter.data.startswith("def is_leap(year: int) -> bool:\n")
    assert is_leap(1900).data is False


def test_retry_sends_the_rejection_reason_and_applies_the_second_attempt() -> None:
    x = ot.node(3, name="n", trainable=True)
    y = x + 1
    llm = ScriptedLLM([reply(n="three and a half"), reply(n=7)])
    opt = OptoPrime([x], llm=llm)
    y.backward("too small")
    update = opt.step()
    assert update == {x: 7} and x.data == 7
    assert len(llm.requests) == 2  # bounded: one retry
    second = llm.requests[1]["messages"][-1]["content"]
    assert "three and a half" in second and "not a number" in second
    log = opt.logs[-1]
    assert log["via"].endswith("+retry") and "not a number" in log["first_attempt"][0]
    assert not opt.pending_notes  # the retry fixed it: nothing carried to the next step


def test_retry_after_an_unchanged_value_says_so() -> None:
    x = ot.node(2.0, name="x", trainable=True)
    y = x * 2
    llm = ScriptedLLM([reply(x=2.0), reply(x=4.0)])
    opt = OptoPrime([x], llm=llm)
    y.backward("too small: make it larger")
    assert opt.step() == {x: 4.0}
    assert "is the current value and changes nothing" in llm.requests[1]["messages"][-1]["content"]


def test_retry_is_bounded_and_a_second_rejection_is_logged() -> None:
    x = ot.node(3, name="n", trainable=True)
    y = x + 1
    llm = ScriptedLLM([reply(n="abc"), reply(n="def"), reply(n=5)])
    opt = OptoPrime([x], llm=llm)
    y.backward("too small")
    assert opt.step() == {} and x.data == 3
    assert len(llm.requests) == 2
    assert opt.logs[-1]["rejected"] and opt.pending_notes  # shown in the next step
    y2 = x + 1
    opt.zero_feedback()
    y2.backward("too small")
    assert opt.step() == {x: 5}


def test_compact_prompt_for_small_models_asks_code_as_a_fence() -> None:
    @ot.bundle(trainable=True)
    def is_leap(year: int) -> bool:
        return year % 4 == 0

    out = is_leap(1900)
    fixed = "```python\n" + FIXED.replace("year: int", "year: int") + "```\nDone."
    llm = ScriptedLLM([fixed])
    opt = OptoPrime([is_leap.parameter], llm=llm, compact=True, reasoning_first=False)
    out.backward("is_leap(1900) returned True, but the test expects False")
    prompt = opt.build_prompt()
    assert prompt is not None and prompt.code_fence == "__code_is_leap"
    assert "#Constraints" not in prompt.user and "```python code block" in prompt.user
    update = opt.step()
    assert update and is_leap(1900).data is False
    assert llm.requests[0].get("schema") is None  # free text: no JSON grammar around code


def test_compact_prompt_has_no_placeholder_to_copy() -> None:
    p = ot.node("Read the review.", name="instruction", trainable=True)
    out = ot.node("x", name="review") + p
    opt = OptoPrime([p], llm=ScriptedLLM([reply(instruction="Label it.")]), compact=True, reasoning_first=False)
    out.backward("wrong label")
    prompt = opt.build_prompt()
    assert prompt is not None and "<new text>" not in prompt.user
    assert '{"suggestion": {"instruction": "..."}}' in prompt.user
    assert opt.step() == {p: "Label it."}
