"""Structured output helpers: lenient parsing, strict schemas, response_format per backend."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel

from optotrace.llm.backends.formats import response_format
from optotrace.llm.structured import parse_reply, repair_messages, schema_for, strict_schema


class Point(BaseModel):
    x: int
    y: int


class WithDefault(BaseModel):
    x: int
    note: str = ""


def test_lenient_parsing_copes_with_fences_prose_and_trailing_commas() -> None:
    for text in (
        '{"x": 1, "y": 2}',
        '```json\n{"x": 1, "y": 2,}\n```',
        "Sure! {'x': 1, 'y': 2} Hope it helps.",
    ):
        parsed, errors = parse_reply(text, Point)
        assert parsed == Point(x=1, y=2), (text, errors)


def test_validation_problems_name_the_field() -> None:
    parsed, errors = parse_reply('{"x": "one"}', Point)
    assert parsed is None
    assert any(e.startswith("x:") for e in errors) and any(e.startswith("y:") for e in errors)


def test_a_reply_that_is_not_an_object() -> None:
    parsed, errors = parse_reply("[1, 2]", Point)
    assert parsed is None and "not a JSON object" in errors[0]


@given(st.text(max_size=200))
def test_parsing_never_raises(text: str) -> None:
    parse_reply(text, Point)


def test_repair_round_sends_the_reply_and_the_errors_back() -> None:
    messages = repair_messages([{"role": "user", "content": "q"}], "{bad}", ["x: missing"], schema_for(Point))
    assert messages[1] == {"role": "assistant", "content": "{bad}"}
    assert "- x: missing" in messages[2]["content"] and '"properties"' in messages[2]["content"]


def test_strict_schema_only_when_every_property_is_required() -> None:
    strict = strict_schema(schema_for(Point))
    assert strict is not None and strict["additionalProperties"] is False
    assert strict_schema(schema_for(WithDefault)) is None


def test_response_formats() -> None:
    schema = schema_for(Point)
    assert response_format("json_object_schema", schema, "Point") == {"type": "json_object", "schema": schema}
    assert response_format("json_object", schema, "Point") == {"type": "json_object"}
    fmt = response_format("json_schema", schema, "Point")
    assert fmt is not None and fmt["json_schema"]["strict"] is True and fmt["json_schema"]["name"] == "Point"
    assert response_format("json_schema", schema_for(WithDefault), "a b")["json_schema"]["strict"] is False
    assert response_format("none", schema, "Point") is None
