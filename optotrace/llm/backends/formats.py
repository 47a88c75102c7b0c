"""How a JSON schema is sent as `response_format` to an OpenAI-style chat endpoint.

Modes: "json_schema" (OpenAI structured outputs, strict when the schema allows it), "json_object" (JSON mode,
the schema travels only in the prompt), "json_object_schema" (llama.cpp / llama-cpp-python: JSON mode with
the schema attached, which it compiles into a grammar), "none" (prompt only).
"""

from __future__ import annotations

import re
from typing import Any

from optotrace.llm.errors import LLMConfigError
from optotrace.llm.grammar import grammar_schema
from optotrace.llm.structured import strict_schema

MODES = ("auto", "json_schema", "json_object", "json_object_schema", "none")


def check_mode(mode: str) -> str:
    if mode not in MODES:
        raise LLMConfigError(f"response_format={mode!r} is not one of {', '.join(MODES)}")
    return mode


def response_format(mode: str, schema: dict[str, Any], name: str | None) -> dict[str, Any] | None:
    if mode == "none":
        return None
    if mode == "json_object":
        return {"type": "json_object"}
    if mode == "json_object_schema":  # llama.cpp servers compile it to a grammar: send the subset they support
        return {"type": "json_object", "schema": grammar_schema(schema)}
    strict = strict_schema(schema)
    safe_name = re.sub(r"[^A-Za-z0-9_-]", "_", name or "reply")[:64]
    return {
        "type": "json_schema",
        "json_schema": {"name": safe_name, "schema": strict or schema, "strict": strict is not None},
    }
