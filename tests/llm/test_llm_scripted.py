"""ScriptedLLM: replies in order, regex rules, a function, JSONL scripts, recording, structured output."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import BaseModel

from optotrace.llm import LLMConfigError, LLMError, ScriptedLLM, StructuredOutputError, get_llm


class Plan(BaseModel):
    steps: list[str]
    done: bool


def test_replies_come_in_order_and_requests_are_recorded() -> None:
    llm = ScriptedLLM(replies=["one", "two"])
    assert llm.complete("a").text == "one"
    assert (
        llm.complete([{"role": "system", "content": "s"}, {"role": "user", "content": "b"}], seed=3).text
        == "two"
    )
    assert [r["messages"][-1]["content"] for r in llm.requests] == ["a", "b"]
    assert llm.requests[1]["seed"] == 3
    assert llm.remaining == 0


def test_running_out_of_replies_is_a_clear_error() -> None:
    llm = ScriptedLLM(["only"])
    llm.complete("first")
    with pytest.raises(LLMError, match="no scripted reply is left for request #2"):
        llm.complete("second")


def test_rules_answer_by_the_last_user_message_even_concurrently() -> None:
    llm = ScriptedLLM(
        rules=[(r"capital of (\w+)", lambda m: m[-1]["content"].split()[-1].upper()), (".*", "?")]
    )
    questions = [f"capital of {c}" for c in ("france", "peru", "japan", "chad")] * 8 + ["anything else"]
    results = llm.complete_many(questions, concurrency=8)
    assert [r.text for r in results] == [q.split()[-1].upper() for q in questions[:-1]] + ["?"]


def test_no_matching_rule_is_a_clear_error() -> None:
    with pytest.raises(LLMError, match="no rule matches"):
        ScriptedLLM(rules=[("^yes$", "y")]).complete("no")


def test_a_function_of_the_messages() -> None:
    llm = ScriptedLLM(lambda messages: f"{len(messages)} messages")
    assert llm.complete([{"role": "user", "content": "x"}, {"role": "assistant", "content": "y"},
                         {"role": "user", "content": "z"}]).text == "3 messages"  # fmt: skip


def test_structured_reply_validates_and_repairs_once() -> None:
    llm = ScriptedLLM(['{"steps": ["a"]}', "```json\n{'steps': ['a', 'b'], 'done': true,}\n```"])
    result = llm.complete("plan it", response_model=Plan)
    assert result.parsed == Plan(steps=["a", "b"], done=True)
    assert result.attempts == 2
    repair_request = llm.requests[1]["messages"]
    assert "done" in repair_request[-1]["content"]  # the validation error went back to the model
    assert llm.requests[0]["response_model"] == "Plan"
    assert '"steps"' in llm.requests[0]["messages"][0]["content"]  # the schema is in the prompt


def test_structured_failure_after_repair_carries_the_raw_reply() -> None:
    llm = ScriptedLLM(["not json at all", {"steps": "nope", "done": "maybe"}])
    with pytest.raises(StructuredOutputError) as info:
        llm.complete("plan it", response_model=Plan)
    assert info.value.raw == json.dumps({"steps": "nope", "done": "maybe"})
    assert any("steps" in e for e in info.value.errors)


def test_pydantic_and_dict_replies_are_sent_as_json() -> None:
    llm = ScriptedLLM([Plan(steps=["x"], done=False), {"steps": [], "done": True}])
    assert llm.complete("p", response_model=Plan).parsed == Plan(steps=["x"], done=False)
    assert llm.complete("p", response_model=Plan).parsed == Plan(steps=[], done=True)


def test_an_exception_reply_is_raised() -> None:
    llm = ScriptedLLM([LLMError("scripted failure")])
    with pytest.raises(LLMError, match="scripted failure"):
        llm.complete("x")


def test_jsonl_script_of_replies(tmp_path: Path) -> None:
    path = tmp_path / "replies.jsonl"
    path.write_text('{"reply": "first"}\n\n{"reply": {"steps": ["s"], "done": true}}\n')
    llm = get_llm(f"scripted:{path}")
    assert llm.spec == f"scripted:{path}"
    assert llm.complete("q").text == "first"
    assert llm.complete("q", response_model=Plan).parsed == Plan(steps=["s"], done=True)


def test_jsonl_script_of_rules(tmp_path: Path) -> None:
    path = tmp_path / "rules.jsonl"
    path.write_text('{"pattern": "hello", "reply": "hi there"}\n{"pattern": ".*", "reply": "pardon?"}\n')
    llm = get_llm(f"scripted:{path}")
    assert [llm.complete(q).text for q in ("well hello", "what", "hello")] == [
        "hi there",
        "pardon?",
        "hi there",
    ]


def test_bad_jsonl_line_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"reply": "ok"}\n{"answer": "no reply key"}\n')
    with pytest.raises(LLMConfigError, match=r"bad.jsonl:2"):
        get_llm(f"scripted:{path}")


def test_bad_messages_are_rejected_clearly() -> None:
    with pytest.raises(LLMError, match="role"):
        ScriptedLLM(["x"]).complete([{"content": "no role"}])
