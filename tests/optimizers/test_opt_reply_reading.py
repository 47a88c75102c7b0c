"""Reading replies the way models really write them (issue 11): a reply cut off at max_tokens is never applied,
a dict or list suggested as a JSON string is decoded, an explicit "no change" is `{}` (not None, which means
unreadable) and code values lose the escapes or fence wrapped around them."""

from __future__ import annotations

import json
from typing import Any

import pytest

import optotrace as ot
from optotrace.llm import ScriptedLLM
from optotrace.optimizers import OptoPrime, parse_suggestion
from optotrace.optimizers.proposal.cast import cast_like
from optotrace.optimizers.proposal.parse import CUT_REASON, read_suggestion
from optotrace.optimizers.proposal.policy import ProposalPolicy

LONG_PROMPT = ("You are a careful assistant. Read the review, weigh every sentence, decide whether the customer "
               "is satisfied overall, and answer with exactly one word: positive or negative. ") * 6


def reply(**suggestion: Any) -> str:
    return json.dumps({"reasoning": "r", "answer": None, "suggestion": suggestion})


# -- cut off at the token limit -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text",
    [
        '{"reasoning": "shorter", "suggestion": {"prompt": "Answer the question with one wo',  # inside a string
        '```json\n{"suggestion": {"prompt": "Classify the review as pos',  # inside a fence and a string
        '{"suggestion": {"prompt": "Say \\"yes\\" or \\"no\\" and then expl',  # escaped quotes before the cut
        "{'suggestion': {'prompt': 'Reply briefly and poli",  # Python-style quotes
    ],
)
def test_a_value_cut_inside_its_string_is_never_returned(text: str) -> None:
    assert parse_suggestion(text, ["prompt"]) is None
    read = read_suggestion(text, ["prompt"])
    assert read.truncated and read.cut == {"prompt": CUT_REASON} and not read.values


def test_finish_reason_length_cuts_the_value_that_runs_to_the_end() -> None:
    text = '{"suggestion": {"steps": 3, "rate": 12'
    assert parse_suggestion(text, ["steps", "rate"]) == {"steps": 3, "rate": 12}  # no sign of a cut: kept
    read = read_suggestion(text, ["steps", "rate"], finish_reason="length")
    assert read.values == {"steps": 3} and set(read.cut) == {"rate"}


def test_values_finished_before_the_cut_are_kept() -> None:
    text = '{"suggestion": {"k": 4, "prompt": "Count the items one by one and rep'
    read = read_suggestion(text, ["k", "prompt"], finish_reason="length")
    assert read.values == {"k": 4} and set(read.cut) == {"prompt"}


def test_a_complete_object_before_the_cut_is_whole() -> None:
    text = '{"suggestion": {"prompt": "Answer in one word."}}\nLet me explain why this is better: the mod'
    read = read_suggestion(text, ["prompt"], finish_reason="length")
    assert read.values == {"prompt": "Answer in one word."} and not read.cut


def test_a_code_fence_cut_off_is_not_a_value() -> None:
    text = "```python\ndef f(x):\n    total = 0\n    for v in x:\n        total +="
    read = read_suggestion(text, ["__code_f"], code_names={"__code_f": "f"}, finish_reason="length")
    assert not read.values and set(read.cut) == {"__code_f"}


def test_scripted_replies_are_cut_at_max_tokens_like_a_server() -> None:
    llm = ScriptedLLM(["word " * 50, "short"])
    cut = llm.complete("q", max_tokens=10)
    assert cut.finish_reason == "length" and cut.truncated and cut.usage.completion_tokens <= 10
    whole = llm.complete("q", max_tokens=10)
    assert whole.text == "short" and whole.finish_reason == "stop" and not whole.truncated


def test_the_finish_reason_survives_the_cache(tmp_path: Any) -> None:
    llm = ScriptedLLM(["word " * 50], cache=str(tmp_path / "cache.sqlite"))
    first = llm.complete("q", max_tokens=5)
    again = llm.complete("q", max_tokens=5)
    assert again.cached and again.finish_reason == first.finish_reason == "length"


def test_optoprime_rejects_a_cut_value_and_the_retry_is_told_why() -> None:
    prompt = ot.node("Classify the review.", name="system_prompt", trainable=True)
    out = prompt + " | review: great phone"
    cut_reply = reply(system_prompt=LONG_PROMPT)  # far longer than max_tokens: the server cuts it
    good = reply(system_prompt="Classify the review as positive or negative; answer with one word.")
    llm = ScriptedLLM([cut_reply, good])
    opt = OptoPrime([prompt], llm=llm, max_tokens=40)
    out.backward("The output should be one word: positive or negative.")
    update = opt.step()
    assert update == {prompt: "Classify the review as positive or negative; answer with one word."}
    assert len(llm.requests) == 2
    retry_prompt = llm.requests[1]["messages"][-1]["content"]
    assert "cut off at the token limit" in retry_prompt
    assert opt.logs[-1]["first_attempt"] and "cut off" in opt.logs[-1]["first_attempt"][0]


def test_optoprime_never_applies_a_cut_value_even_through_the_schema() -> None:
    prompt = ot.node("Classify the review.", name="system_prompt", trainable=True)
    out = prompt + " | review: great phone"
    llm = ScriptedLLM([reply(system_prompt=LONG_PROMPT)])
    opt = OptoPrime([prompt], llm=llm, max_tokens=40, policy=ProposalPolicy(retry_unchanged=False))
    out.backward("Too vague.")
    assert opt.step() == {} and prompt.data == "Classify the review."
    assert opt.rejected and opt.rejected[-1]["name"] == "system_prompt" and "cut off" in opt.rejected[-1]["reason"]
    assert "cut off" in opt.take_notes()[0]


def test_a_compact_code_reply_cut_off_is_not_repaired_into_an_update() -> None:
    @ot.bundle(trainable=True)
    def total(xs: list) -> int:
        return 0

    out = total([1, 2, 3])
    body = "```python\ndef total(xs: list) -> int:\n" + "".join(f"    # step {i}: add things\n" for i in range(40))
    body += "    return sum(xs)\n```"
    llm = ScriptedLLM([body])
    opt = OptoPrime([total.parameter], llm=llm, max_tokens=30,
                    policy=ProposalPolicy.small(retry_unchanged=False))
    out.backward("total([1, 2, 3]) should be 6")
    assert opt.step() == {} and "return 0" in total.parameter.data
    assert opt.rejected and "cut off" in opt.rejected[-1]["reason"]


# -- dict and list values written as JSON strings -----------------------------------------------------------
@pytest.mark.parametrize(
    "raw, expected",
    [
        ('"{\\"k\\": 5}"', {"k": 5}),
        ("\"{'k': 5, 'on': true}\"", {"k": 5, "on": True}),  # Python quotes with JSON's true
        ('"```json\\n{\\"k\\": 5,}\\n```"', {"k": 5}),  # fenced, with a trailing comma
    ],
)
def test_a_dict_suggested_as_a_json_string_is_decoded(raw: str, expected: dict[str, Any]) -> None:
    text = '{"suggestion": {"config": ' + raw + "}}"
    assert parse_suggestion(text, ["config"], kinds={"config": "dict"}) == {"config": expected}
    value = parse_suggestion(text, ["config"])["config"]  # type: ignore[index]
    assert cast_like(value, {"k": 1}) == expected


def test_a_list_suggested_as_a_json_string_is_decoded() -> None:
    text = '{"suggestion": {"stops": "[\\"a\\", \\"b\\",]"}}'
    assert parse_suggestion(text, ["stops"], kinds={"stops": "list"}) == {"stops": ["a", "b"]}
    assert cast_like("['a', 'b']", []) == ["a", "b"]


def test_a_text_variable_holding_json_stays_text() -> None:
    text = '{"suggestion": {"template": "{\\"name\\": \\"$name\\"}"}}'
    assert parse_suggestion(text, ["template"], kinds={"template": "str"}) == {"template": '{"name": "$name"}'}


def test_optoprime_applies_a_dict_given_as_a_json_string() -> None:
    @ot.bundle()
    def double_k(c: dict) -> int:
        return c["k"] * 2

    cfg = ot.node({"k": 1, "mode": "fast"}, name="config", trainable=True)
    out = double_k(cfg)
    llm = ScriptedLLM([json.dumps({"suggestion": {"config": "{'k': 5, 'mode': 'fast',}"}})])
    opt = OptoPrime([cfg], llm=llm)
    out.backward("too small: make it 10")
    assert opt.step() == {cfg: {"k": 5, "mode": "fast"}} and cfg.data == {"k": 5, "mode": "fast"}


# -- an explicit "no change" against an unreadable reply ----------------------------------------------------
@pytest.mark.parametrize(
    "text",
    [
        '{"reasoning": "the outputs are right", "suggestion": {}}',
        '```json\n{"suggestion": {}}\n```',
        '{"suggestion": "no change"}',
        '{"reasoning": "all good", "terminate": true}',
        '{"reasoning": "done", "answer": null, "suggestion": "TERMINATE"}',
        "{'suggestion': {}, 'TERMINATE': True}",
    ],
)
def test_an_explicit_no_change_is_an_empty_dict(text: str) -> None:
    assert parse_suggestion(text, ["x", "y"]) == {}
    assert read_suggestion(text, ["x", "y"]).no_change


@pytest.mark.parametrize(
    "text",
    [
        "I am not sure what to change.",
        '{"suggestion": {"new_x": 5}}',  # a name that is not a variable: not "no change"
        '{"reasoning": "terminate: false", "terminate": false}',
        "{}",  # says nothing, not even that nothing should change
        '{"suggestion": null}',
        "TERMINATE",
        "",
    ],
)
def test_an_unreadable_reply_is_none(text: str) -> None:
    assert parse_suggestion(text, ["x"]) is None


def test_values_win_over_an_empty_object_elsewhere_in_the_reply() -> None:
    text = 'First I thought {"suggestion": {}} but no: {"suggestion": {"x": 4}}'
    assert parse_suggestion(text, ["x"]) == {"x": 4}


def test_optoprime_takes_no_change_as_an_answer_and_retries_an_unreadable_reply() -> None:
    x = ot.node(3, name="x", trainable=True)
    y = x + 1
    llm = ScriptedLLM([json.dumps({"reasoning": "y is right", "suggestion": {}})])
    opt = OptoPrime([x], llm=llm)
    y.backward("looks fine")
    assert opt.step() == {} and len(llm.requests) == 1  # no retry: the model chose no change
    assert opt.logs[-1]["via"] == "nochange" and not opt.rejected and not opt.pending_notes

    x2 = ot.node(3, name="x", trainable=True)
    y2 = x2 + 1
    llm2 = ScriptedLLM(["I would make it bigger.", reply(x=5)])
    opt2 = OptoPrime([x2], llm=llm2)
    y2.backward("too small")
    assert opt2.step() == {x2: 5} and len(llm2.requests) == 2


# -- code values with escapes or a fence inside the JSON value ----------------------------------------------
CODE = "def f(x):\n    return x + 1"


@pytest.mark.parametrize(
    "value",
    [
        CODE.replace("\n", "\\n"),  # literal backslash-n (the model escaped twice)
        "```python\n" + CODE + "\n```",  # a fence inside the JSON string
        "```python\\n" + CODE.replace("\n", "\\n") + "\\n```",  # both
        "```\n" + CODE + "\n```\n",  # an untagged fence and a trailing newline
    ],
)
def test_code_values_lose_escapes_and_fences(value: str) -> None:
    text = json.dumps({"suggestion": {"__code_f": value}})
    assert parse_suggestion(text, ["__code_f"], code_names={"__code_f": "f"}) == {"__code_f": CODE}
    assert parse_suggestion(text, ["__code_f"]) == {"__code_f": CODE}  # recognised as code without the hint


def test_text_with_a_literal_backslash_n_is_not_code_and_is_kept() -> None:
    text = json.dumps({"suggestion": {"sep": "Join the lines with \\n between them."}})
    assert parse_suggestion(text, ["sep"]) == {"sep": "Join the lines with \\n between them."}


def test_opro_and_textgrad_never_apply_a_cut_value_either() -> None:
    from optotrace.optimizers import OPRO, TextGrad

    for make in (lambda p, llm: OPRO([p], llm=llm, max_tokens=40),
                 lambda p, llm: TextGrad([p], llm=llm, max_tokens=40)):
        prompt = ot.node("Classify the review.", name="system_prompt", trainable=True)
        out = prompt + " | review: great phone"
        llm = ScriptedLLM(lambda m: "be clearer" if "How should" in m[-1]["content"]
                          else reply(system_prompt=LONG_PROMPT))
        opt = make(prompt, llm)
        out.backward("Too vague.")
        assert opt.step() == {} and prompt.data == "Classify the review."
        assert opt.rejected and "cut off" in opt.rejected[-1]["reason"]
