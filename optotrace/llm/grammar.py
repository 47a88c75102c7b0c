"""JSON schemas that llama.cpp can turn into a grammar, so a local model's reply is held to the schema's shape.

llama-cpp-python's converter fails on parts of what pydantic emits (an `items: {}` for `list[Any]` raises
KeyError('prefixItems'); a bare `{"title": ...}` for `Any` fails an assertion), and when it fails inside
`response_format` it silently falls back to unconstrained JSON. `grammar_schema` rewrites a schema into the
subset every llama.cpp converter handles (local $refs inlined unless recursive, `Any` spelled as a union of
the JSON types, tuple `prefixItems` kept without a conflicting `items`, unanchored patterns dropped), and
`compile_grammar` converts it to GBNF here, raising instead of falling back.
"""

from __future__ import annotations

import copy
import functools
import json
from typing import Any

from optotrace.llm.errors import LLMConfigError

ANY_VALUE: dict[str, Any] = {
    "anyOf": [
        {"type": "string"},
        {"type": "number"},
        {"type": "boolean"},
        {"type": "null"},
        {"type": "array"},
        {"type": "object"},
    ]
}
ANNOTATIONS = {
    "title",
    "description",
    "default",
    "examples",
    "deprecated",
    "readOnly",
    "writeOnly",
    "$comment",
}
STRUCTURE = {
    "type", "$ref", "anyOf", "oneOf", "allOf", "const", "enum", "properties", "additionalProperties",
    "items", "prefixItems", "pattern", "format", "minLength", "maxLength",
}  # fmt: skip
SCHEMA_MAPS = {"properties", "patternProperties", "dependentSchemas"}
SCHEMA_LISTS = {"anyOf", "oneOf", "allOf", "prefixItems", "items"}
SCHEMA_VALUES = {"items", "additionalProperties", "not", "contains", "propertyNames", "if", "then", "else"}


class GrammarError(LLMConfigError):
    """A schema cannot be turned into a grammar, so a local model's reply could not be held to it."""


def _local_ref(ref: str, defs: dict[str, Any]) -> tuple[str, Any] | None:
    for prefix in ("#/$defs/", "#/definitions/"):
        if ref.startswith(prefix) and ref[len(prefix) :] in defs:
            name = ref[len(prefix) :]
            return name, defs[name]
    return None


def grammar_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """`schema` rewritten into the subset llama.cpp's JSON-schema converters support; same accepted JSON."""
    defs = {**schema.get("definitions", {}), **schema.get("$defs", {})}
    kept: dict[str, Any] = {}  # recursive definitions stay as $defs, rewritten once

    def rewrite(node: Any, stack: tuple[str, ...]) -> Any:
        if not isinstance(node, dict):
            return node  # `true` / `false` schemas
        ref = node.get("$ref")
        if isinstance(ref, str):
            found = _local_ref(ref, defs)
            if found is None:
                raise GrammarError(f"the schema's reference {ref!r} is not a local definition")
            name, target = found
            if name in stack:  # recursive: keep the reference, define it once
                if name not in kept:
                    kept[name] = {}
                    kept[name] = rewrite(target, stack)
                return {"$ref": f"#/$defs/{name}"}
            return rewrite(target, (*stack, name))
        out: dict[str, Any] = {}
        for key, value in node.items():
            if key in ("$defs", "definitions"):
                continue
            if key in SCHEMA_MAPS and isinstance(value, dict):
                out[key] = {k: rewrite(v, stack) for k, v in value.items()}
            elif key in SCHEMA_LISTS and isinstance(value, list):
                out[key] = [rewrite(v, stack) for v in value]
            elif key in SCHEMA_VALUES:
                out[key] = rewrite(value, stack)
            else:  # data: enum, const, default, required, ...
                out[key] = value
        if not (set(out) & STRUCTURE):  # `Any`: {} or only annotations
            return {**{k: v for k, v in out.items() if k in ANNOTATIONS}, **ANY_VALUE}
        if out.get("items") is True:
            out["items"] = copy.deepcopy(ANY_VALUE)
        closed_tuple = "prefixItems" in out and not isinstance(out.get("items"), dict | list)
        if closed_tuple or out.get("items") == {}:
            out.pop("items", None)  # `items: false` (closed tuple) or `{}` confuse the converter
            if "prefixItems" not in out:
                out["items"] = copy.deepcopy(ANY_VALUE)
        pattern = out.get("pattern")
        if isinstance(pattern, str) and not (pattern.startswith("^") and pattern.endswith("$")):
            out.pop("pattern")  # only anchored patterns convert; validation still checks it afterwards
        if out.get("additionalProperties") == {}:
            out["additionalProperties"] = True
        if "allOf" in out and len(out["allOf"]) == 1 and isinstance(out["allOf"][0], dict):
            only = out.pop("allOf")[0]  # pydantic's wrapper for a $ref with siblings
            out = {**only, **{k: v for k, v in out.items() if k in ANNOTATIONS}}
        return out

    rewritten = rewrite({k: v for k, v in schema.items() if k not in ("$defs", "definitions")}, ())
    if kept:
        rewritten["$defs"] = kept
    return rewritten


@functools.lru_cache(maxsize=64)
def _compile(schema_json: str) -> str:
    try:
        from llama_cpp.llama_grammar import json_schema_to_gbnf
    except ImportError as exc:
        raise GrammarError("turning a schema into a grammar needs llama-cpp-python (`make install`)") from exc
    try:
        gbnf = str(json_schema_to_gbnf(schema_json))
    except Exception as exc:  # the converter reports unsupported constructs with asserts and KeyErrors
        raise GrammarError(
            f"this JSON schema cannot be turned into a llama.cpp grammar ({type(exc).__name__}: {exc}); "
            f"simplify the response model. Schema: {schema_json[:300]}"
        ) from exc
    return _strict_strings(gbnf)


LOOSE_CHAR = r'char ::= [^"\\]'
STRICT_CHAR = r'char ::= [^"\\\x7F\x00-\x1F]'


def _strict_strings(gbnf: str) -> str:
    """JSON strings without raw control characters. llama-cpp-python's converter lets a string hold any character
    but a quote or a backslash, so a sampled newline inside a string made a reply that json.loads refuses;
    llama.cpp's own converter excludes U+0000-U+001F and U+007F, as JSON requires."""
    lines = gbnf.split("\n")
    return "\n".join(STRICT_CHAR + line[len(LOOSE_CHAR) :] if line.startswith(LOOSE_CHAR) else line for line in lines)


def compile_grammar(schema: dict[str, Any]) -> str:
    """The GBNF grammar for `schema` (rewritten first); GrammarError where it cannot be built."""
    return _compile(json.dumps(grammar_schema(schema)))  # key order kept: it is the order fields are written
