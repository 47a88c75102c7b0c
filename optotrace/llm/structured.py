"""Structured output: a pydantic model becomes a JSON schema; a reply is parsed leniently, then validated.

Parsing goes through json-repair (which copes with code fences, trailing commas, single quotes, prose around
the object); validation is pydantic's. A failed validation yields the messages for one repair round.
"""

from __future__ import annotations

import copy
import json
import logging
from typing import Any

from pydantic import BaseModel, ValidationError

from optotrace.llm.errors import StructuredOutputError
from optotrace.llm.prompts import render
from optotrace.llm.replies import UNREADABLE, repair_load
from optotrace.llm.results import Message, RawReply, Request

log = logging.getLogger("optotrace.llm")


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


def check_reply(
    spec: str, request: Request, raw: RawReply, response_model: type[BaseModel] | None, *, final: bool
) -> tuple[BaseModel | None, Request | None]:
    """(parsed, None) when the reply is usable; (None, repair request) for one repair round; raises
    StructuredOutputError when the repair round's reply (`final`) fails too. `spec` names the client."""
    if response_model is None or request.schema is None:
        return None, None
    parsed, errors = parse_reply(raw.text, response_model)
    if not errors:
        return parsed, None
    if final:
        raise StructuredOutputError(
            f"the reply from {spec} does not match {response_model.__name__} even after a repair "
            f"round: {'; '.join(errors[:5])}. Use a stronger model, simplify the schema, or inspect .raw.",
            raw=raw.text,
            errors=errors,
        )
    log.info("reply does not match %s (%s); asking %s to repair it", response_model.__name__, errors[0], spec)
    messages = repair_messages(request.messages, raw.text, errors, request.schema)
    return None, Request(
        messages, request.temperature, request.max_tokens, request.seed, request.schema, request.schema_name
    )


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
