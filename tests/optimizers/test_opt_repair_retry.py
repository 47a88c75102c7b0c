"""The code-repair step before a code suggestion is rejected, the bounded retry within one step, placeholder
rejection and the compact prompt for small local models (all with the scripted LLM)."""

from __future__ import annotations

import json
from typing import Any

import pytest

import optotrace as ot
from optotrace.llm import ScriptedLLM
from optotrace.optimizers import OptoPrime, SuggestionRejected, validate_suggestion
from optotrace.optimizers.proposal.policy import ProposalPolicy
from optotrace.optimizers.proposal.validate import check_code, repair_candidates

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
    opt = OptoPrime([is_leap.parameter], llm=llm, policy=ProposalPolicy(retry_unchanged=False))
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
    opt = OptoPrime([is_leap.parameter], llm=llm, policy=ProposalPolicy.small())
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
    opt = OptoPrime([p], llm=ScriptedLLM([reply(instruction="Label it.")]),
                    policy=ProposalPolicy.small())
    out.backward("wrong label")
    prompt = opt.build_prompt()
    assert prompt is not None and "<new text>" not in prompt.user
    assert '{"suggestion": {"instruction": "..."}}' in prompt.user
    assert opt.step() == {p: "Label it."}


def _numeric_setup(llm: ScriptedLLM, **kw: Any) -> tuple[Any, OptoPrime]:
    x = ot.node(0.0, name="x", trainable=True)
    opt = OptoPrime([x], llm=llm, memory_size=3, policy=ProposalPolicy.small(**kw))
    return x, opt


def _feedback_step(x: Any, opt: OptoPrime) -> dict[Any, Any]:
    opt.zero_feedback()
    y = x * 2
    want = 16.0
    y.backward("y is too small: it should be larger." if y.data < want else "y is too large: it should be smaller.")
    return opt.step()


def test_compact_numeric_prompt_lists_tried_values_and_the_bracket() -> None:
    llm = ScriptedLLM([reply(x=5.0), reply(x=10.0), reply(x=7.5)])
    x, opt = _numeric_setup(llm)
    assert _feedback_step(x, opt) == {x: 5.0}
    assert _feedback_step(x, opt) == {x: 10.0}
    assert _feedback_step(x, opt) == {x: 7.5}
    third = llm.requests[2]["messages"][-1]["content"]
    assert "#Tried" in third and "x = 0.0: y is too small" in third and "x = 10.0: y is too large" in third
    assert "x must not be 0.0, 5.0, 10.0." in third
    assert "too small at x = 5.0 and too large at x = 10.0, so the right x is between them" in third
    assert "#History" not in third  # the tried values replace the JSON history for numeric-only prompts
    assert opt.state_dict()["tried"]["x"][-1]["value"] == 10.0


def test_compact_numeric_retry_when_a_tried_value_comes_back() -> None:
    # Step 2 first repeats x = 0.0 (tried in step 1): asked again, the new value wins.
    llm = ScriptedLLM([reply(x=5.0), reply(x=0.0), reply(x=9.0)])
    x, opt = _numeric_setup(llm)
    _feedback_step(x, opt)
    assert _feedback_step(x, opt) == {x: 9.0}
    retry = llm.requests[2]["messages"][-1]["content"]
    assert "x = 0.0 was already tried" in retry
    assert opt.logs[-1]["via"] == "schema+retry" and "already tried" in opt.logs[-1]["first_attempt"][0]


def test_compact_numeric_keeps_a_tried_value_when_retries_bring_nothing_better() -> None:
    # A repeated value is still a valid change: applied when the retries only copy the current value.
    llm = ScriptedLLM([reply(x=5.0), reply(x=0.0), reply(x=5.0), reply(x=5.0)])
    x, opt = _numeric_setup(llm)
    _feedback_step(x, opt)
    assert _feedback_step(x, opt) == {x: 0.0}
    assert len(llm.requests) == 4  # one first attempt and two retries in step 2


def test_retries_are_hotter_and_reseeded() -> None:
    llm = ScriptedLLM([reply(x=0.0), reply(x=0.0), reply(x=3.0)])
    x, opt = _numeric_setup(llm, retry_temperature=1.1)
    assert _feedback_step(x, opt) == {x: 3.0}
    temps = [r.get("temperature") for r in llm.requests]
    seeds = [r.get("seed") for r in llm.requests]
    assert temps == [0.0, 1.1, 1.1] and len(set(seeds)) == 3


def test_hosted_prompt_has_no_tried_section() -> None:
    llm = ScriptedLLM([reply(x=5.0), reply(x=10.0)])
    x = ot.node(0.0, name="x", trainable=True)
    opt = OptoPrime([x], llm=llm, memory_size=3, policy=ProposalPolicy.capable())
    _feedback_step(x, opt)
    _feedback_step(x, opt)
    second = llm.requests[1]["messages"][-1]["content"]
    assert "#Tried" not in second and "#History" in second


def test_feedback_direction_words() -> None:
    from optotrace.optimizers.proposal.prompt_builder import feedback_direction

    assert feedback_direction("y = 5 is too small: it should be larger.") == "up"
    assert feedback_direction("y = 25 is too large: it should be smaller.") == "down"
    assert feedback_direction("too small | too large") is None
    assert feedback_direction("Correct.") is None


def test_compact_code_request_shows_the_signature_unquoted() -> None:
    from optotrace.optimizers.proposal.prompt_builder import show_signature

    class P:
        data = "def is_leap(year: int) -> bool:\n    return True\n"
        code_signature = "(year: 'int') -> 'bool'"

    assert show_signature(P(), "is_leap") == "is_leap(year: int) -> bool"
    P.data = "not python ("
    assert show_signature(P(), "is_leap") == "is_leap(year: int) -> bool"


def test_demo_calls_after_the_function_are_dropped_not_run():
    code = "def is_leap(year):\n    return year % 4 == 0\n\nprint(is_leap(2000))\nassert is_leap(4)\n"
    cleaned = check_code(code, "is_leap", "(year)")
    assert "print" not in cleaned and "assert" not in cleaned
    assert "def is_leap(year):" in cleaned


def test_a_loop_at_top_level_is_dropped_too():
    cleaned = check_code("def f(x):\n    return x\nfor i in range(3):\n    f(i)\n", "f", "(x)")
    assert "for i" not in cleaned and cleaned.startswith("def f(x):")
