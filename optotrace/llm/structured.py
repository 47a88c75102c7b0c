"""Structured output: a pydantic model becomes a JSON schema; a reply is parsed leniently, then validated.

Parsing goes through json-repair (which copes with code fences, trailing commas, single quotes, prose around
the object); validation is pydantic's. A failed validation yields the messages for one repair round.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from pydantic import BaseModel, ValidationError

from optotrace.llm.prompts import render
from optotrace.llm.replies import UNREADABLE, repair_load
from optotrace.llm.results import Message


def schema_for(model: type[BaseModel]) -> dict[str, Any]:
    if not (isinstance(model, type) and issubclass(model, BaseModel)):
        raise TypeError(f"response_model must be a pydantic BaseModel subclass, got {model!r}")
    return model.model_json_schema()


def schema_text(schema: dict[str, Any]) -> str:
    return json.dumps(schema, sort_keys=True)


def with_schema_hint(messages: list[Message], schema: dict[str, Any]) -> list[Message]:
    """The messages with an instruction to answer in JSON matching `schema`, placed in the system message."""
    hint = render("schema_hint", schema=schema_text(schema))
    if messages and messages[0]["role"] == "system":
        first = {"role": "system", "content": f"{messages[0]['content']}\n\n{hint}"}
        return [first, *messages[1:]]
    return [{"role": "system", "content": hint}, *messages]


def parse_reply(text: str, model: type[BaseModel]) -> tuple[BaseModel | None, list[str]]:
    """(validated object, []) or (None, problems). Never raises."""
    data = repair_load(text)
    if data is UNREADABLE:
        return None, [f"the reply is not JSON: {text[:200]!r}"]
    if not isinstance(data, dict):
        return None, [f"the reply is not a JSON object (got {type(data).__name__}: {text[:200]!r})"]
    try:
        return model.model_validate(data), []
    except ValidationError as exc:
        return None, [_describe(err) for err in exc.errors()]


def _describe(err: Any) -> str:
    where = ".".join(str(p) for p in err.get("loc", ())) or "(root)"
    return f"{where}: {err.get('msg', 'invalid')}"


def repair_messages(
    messages: list[Message], raw: str, errors: list[str], schema: dict[str, Any]
) -> list[Message]:
    """The conversation for the repair round: the failed reply, then what was wrong with it."""
    note = render("repair", errors="\n".join(f"- {e}" for e in errors), schema=schema_text(schema))
    return [*messages, {"role": "assistant", "content": raw}, {"role": "user", "content": note}]


def strict_schema(schema: dict[str, Any]) -> dict[str, Any] | None:
    """The schema in OpenAI's strict form (every object closed, every property required), or None if it
    has optional properties, which strict mode cannot express without changing their meaning."""
    out = copy.deepcopy(schema)

    def close(node: Any) -> bool:
        if isinstance(node, dict):
            if node.get("type") == "object" or "properties" in node:
                props = node.get("properties", {})
                if set(node.get("required", [])) != set(props):
                    return False
                node["additionalProperties"] = False
            if "default" in node:
                return False
            return all(close(v) for v in node.values())
        if isinstance(node, list):
            return all(close(v) for v in node)
        return True

    return out if close(out) else None
