from __future__ import annotations

import json
import re
from typing import Any

import pytest

import optotrace as ot
from optotrace.llm import ScriptedLLM
from optotrace.optimizers import OptimizerError, OptoPrime
from optotrace.optimizers.proposal.policy import ProposalPolicy


def reply(**suggestion: Any) -> str:
    return json.dumps({"reasoning": "r", "answer": None, "suggestion": suggestion})


def test_step_applies_update_and_prompt_has_sections() -> None:
    x = ot.node(3.0, name="x", trainable=True, description="a scalar")
    y = x * ot.node(2, name="k") + 1
    llm = ScriptedLLM([reply(x=1.5)])
    opt = OptoPrime([x], llm=llm)
    opt.zero_feedback()
    y.backward("too large: make it smaller")
    prompt = opt.build_prompt()
    assert prompt is not None
    for section in ("#Instruction", "#Code", "#Documentation", "#Variables", "#Constraints", "#Inputs", "#Others",
                    "#Outputs", "#Feedback"):
        assert section in prompt.user
    assert "(float) x = 3.0" in prompt.user and "(int) k = 2" in prompt.user
    assert "too large: make it smaller" in prompt.user
    update = opt.step()
    assert update == {x: 1.5} and x.data == 1.5
    sent = llm.requests[0]
    assert sent["schema"]["$defs"]  # the structured-output path was used
    props = next(iter(sent["schema"]["$defs"].values()))["properties"]
    assert props == {"x": {"description": "the new value of x (float): a scalar", "type": "number"}}


def test_names_are_user_names_with_suffix_only_on_collision() -> None:
    a = ot.node("hello", name="greeting", trainable=True)
    b = ot.node("bye", name="greeting", trainable=True)
    c = ot.node(1, name="count", trainable=True)
    out = a + b
    n = c + 1
    llm = ScriptedLLM([reply(greeting="hi", greeting_2="ciao", count=2)])
    opt = OptoPrime([a, b, c], llm=llm)
    out.backward("shorter")
    n.backward("bigger")
    prompt = opt.build_prompt()
    assert prompt is not None
    assert [v.name for v in prompt.variables] == ["greeting", "greeting_2", "count"]
    assert opt.step() == {a: "hi", b: "ciao", c: 2}


def test_rejection_is_logged_and_shown_next_step(caplog: pytest.LogCaptureFixture) -> None:
    n = ot.node(2, name="n", trainable=True, constraint=lambda v: v < 10 or "n must stay below 10")
    y = n + 1
    llm = ScriptedLLM([reply(n=3.7), reply(n=40), reply(n=5)])
    opt = OptoPrime([n], llm=llm, policy=ProposalPolicy(retry_unchanged=False))  # no retry within a step: one reply per step
    y.backward("larger")
    with caplog.at_level("INFO", logger="optotrace.optimizers"):
        assert opt.step() == {}
    assert "rejected" in caplog.text and "whole number" in caplog.text
    assert n.data == 2
    assert opt.step() == {}
    second = llm.requests[1]["messages"][-1]["content"]
    assert "Your previous suggestion for n was rejected" in second and "whole number" in second
    opt.step()
    third = llm.requests[2]["messages"][-1]["content"]
    assert "n must stay below 10" in third
    assert n.data == 5
    assert [r["reason"] for r in opt.rejected][1] == "constraint violated: n must stay below 10"


def test_malformed_and_prose_replies_fall_back_to_the_parser() -> None:
    x = ot.node(1, name="x", trainable=True)
    y = x + 1
    opt = OptoPrime([x], llm=ScriptedLLM(["Sure! TERMINATE is not needed.\n```json\n{'suggestion': {'x': '4.0',},}\n```"]))
    y.backward("larger")
    assert opt.step() == {x: 4}


def test_no_feedback_means_no_update_and_a_clear_log() -> None:
    x = ot.node(1, name="x", trainable=True)
    llm = ScriptedLLM([reply(x=3)])
    opt = OptoPrime([x], llm=llm)
    assert opt.step() == {}
    assert opt.logs[-1]["error"] == "no feedback" and not llm.requests


def test_state_dict_round_trip_is_json() -> None:
    x = ot.node(1.0, name="x", trainable=True)
    llm = ScriptedLLM(lambda m: reply(x=float(re.search(r"x = ([\d.]+)", m[-1]["content"]).group(1)) + 1))
    opt = OptoPrime([x], llm=llm, memory_size=2)
    for _ in range(3):
        opt.zero_feedback()
        (x * 2).backward("larger")
        opt.step()
    state = json.loads(json.dumps(opt.state_dict()))
    assert state["step_count"] == 3 and len(state["memory"]) == 2
    other = OptoPrime([ot.node(0.0, name="x", trainable=True)], llm=llm, memory_size=2)
    other.load_state_dict(state)
    assert other.state_dict() == state
    with pytest.raises(OptimizerError, match="same parameters"):
        OptoPrime([ot.node(0.0, name="z", trainable=True)], llm=llm).load_state_dict(state)
    # Memory appears in the next prompt.
    opt.zero_feedback()
    (x * 2).backward("larger")
    assert "#History" in opt.build_prompt().user


def test_code_parameter_update_keeps_signature() -> None:
    @ot.bundle(trainable=True)
    def inc(v: int) -> int:
        """Add one."""
        return v + 2

    good = "def inc(v: int) -> int:\n    return v + 1\n"
    llm = ScriptedLLM([reply(__code_inc="def inc(a, b):\n    return a"), reply(__code_inc=good)])
    opt = OptoPrime([inc.parameter], llm=llm, policy=ProposalPolicy(retry_unchanged=False))
    inc(1).backward("inc(1) should be 2")
    assert opt.step() == {}
    opt.zero_feedback()
    inc(1).backward("inc(1) should be 2")
    assert opt.step() == {inc.parameter: good}
    assert inc(1).data == 2


def test_multi_candidate_keeps_the_best() -> None:
    x = ot.node(0, name="x", trainable=True)
    seen: list[float] = []

    def script(messages: list[dict[str, Any]]) -> str:
        seen.append(len(seen))
        return reply(x=[5, 9, "bad", 7][len(seen) - 1])

    opt = OptoPrime([x], llm=ScriptedLLM(script), num_candidates=4)
    (x + 1).backward("closer to 9 please")
    scores: list[Any] = []

    def evaluate(update: dict[Any, Any]) -> float:
        value = next(iter(update.values()))
        scores.append(value)
        return -abs(value - 9)

    update = opt.step(evaluate=evaluate)
    assert update == {x: 9} and x.data == 9
    assert sorted(scores) == [5, 7, 9]
    assert [c["valid"] for c in opt.logs[-1]["candidates"]] == [True, True, False, True]


def test_large_graph_prompt_stays_within_budget() -> None:
    x = ot.node(1.0, name="x", trainable=True)
    y = x
    for i in range(1000):
        y = y + ot.node(float(i), name=f"c{i}")
    llm = ScriptedLLM([reply(x=0.0)])
    opt = OptoPrime([x], llm=llm, policy=ProposalPolicy(max_prompt_tokens=8000))
    y.backward("far too large")
    prompt = opt.build_prompt()
    assert prompt is not None
    assert llm.count_tokens(prompt.system + "\n" + prompt.user) <= 8000
    assert "(float) x = 1.0" in prompt.user and "far too large" in prompt.user
    assert "operations omitted" in prompt.user  # says what it left out
    code = prompt.user.split("\n#Code\n", 1)[1].split("\n#Documentation\n", 1)[0]
    assert code.strip().splitlines()[0].startswith("add = add(a=x")  # nearest the parameter
    assert "add_1000 = add(" in code  # nearest the output
    assert opt.step() == {x: 0.0}


def test_many_parameters_rotate_through_the_prompt() -> None:
    params = [ot.node(float(i), name=f"p{i}", trainable=True) for i in range(1000)]
    total = params[0]
    for p in params[1:]:
        total = total + p
    opt = OptoPrime(params, llm=ScriptedLLM(["{}"]), policy=ProposalPolicy(max_prompt_tokens=4000))
    total.backward("smaller")
    first = opt.build_prompt()
    assert first is not None and first.hidden_variables > 0
    assert "more variables are not shown" in first.user
    opt.step_count = 1
    second = opt.build_prompt()
    assert {v.name for v in first.variables} != {v.name for v in second.variables}
