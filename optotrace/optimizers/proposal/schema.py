"""The response model for one optimizer step, built from the variables shown in the prompt.

`suggestion` has one optional property per variable, named exactly as in #Variables and typed like the
parameter, and no other property, so a backend that constrains its output with the schema (llama.cpp's
grammar, OpenAI's structured outputs) can only write usable keys. Variable names need not be Python
identifiers: fields get safe names and carry the variable name as their alias.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, Optional

from pydantic import BaseModel, ConfigDict, Field, create_model

from optotrace.optimizers.proposal.cast import kind_of
from optotrace.optimizers.proposal.checks import is_instruction

__all__ = ["VariableSpec", "suggestion_model", "suggestion_values"]



class VariableSpec:
    """What the schema needs to know about one variable: its prompt name, kind and a short description."""

    __slots__ = ("name", "kind", "description", "code_name", "role")

    def __init__(self, name: str, kind: str, description: str = "", code_name: str | None = None,
                 role: str = "") -> None:
        self.name = name
        self.kind = kind  # int | float | str | code | bool | list | dict | other
        self.description = description
        self.code_name = code_name
        self.role = role  # "instruction": a parameter declared role="instruction" (see proposal/checks.py)

    @classmethod
    def of(cls, param: Any, name: str) -> VariableSpec:
        """The spec of a ParameterNode shown under `name`."""
        return cls(name, kind_of(param.data, param.is_code), param.description or "", param.code_name,
                   "instruction" if is_instruction(param) else "")


_JSON_TYPES: dict[str, dict[str, Any]] = {
    "int": {"type": "integer"},
    "float": {"type": "number"},
    "str": {"type": "string"},
    "code": {"type": "string"},
    "bool": {"type": "boolean"},
    "list": {"type": "array"},
    "dict": {"type": "object"},
}


def _tidy(schema: dict[str, Any], *_: Any) -> None:
    """Drop titles (they repeat the property names; a shorter schema leaves more of a small model's
    context) and close the object, so a constrained backend writes only the listed properties."""
    schema.pop("title", None)
    schema["additionalProperties"] = False
    for prop in schema.get("properties", {}).values():
        if isinstance(prop, dict):
            prop.pop("title", None)


def _reply_schema(schema: dict[str, Any], *_: Any) -> None:
    _tidy(schema)
    schema["required"] = ["reasoning", "suggestion"]
    sugg = schema.get("properties", {}).get("suggestion", {})
    refs = [a for a in sugg.get("anyOf", []) if "$ref" in a]
    if refs:  # nullable for validation only: the schema asks for the object
        schema["properties"]["suggestion"] = {"$ref": refs[0]["$ref"], "description": sugg.get("description", "")}


def _field_name(index: int, name: str) -> str:
    base = re.sub(r"\W", "_", name).strip("_") or "var"
    if base[0].isdigit():
        base = "v_" + base
    return f"f{index}_{base}"


def _describe(spec: VariableSpec) -> str:
    if spec.kind == "code":
        fn = f" `{spec.code_name}`" if spec.code_name else ""
        return f"the complete new source of the function{fn} (same name and parameters), as a string"
    if spec.role == "instruction":
        text = (f"the new instruction {spec.name}: complete instruction text given to the model with every input, "
                "not the answer to one example")
    else:
        text = f"the new value of {spec.name} ({spec.kind})"
    return f"{text}: {spec.description}" if spec.description else text


def reply_format(example: str, reasoning_first: bool = True) -> str:
    """The JSON reply shown to the model, in the order the schema asks for."""
    reasoning = '"reasoning": "<a few sentences: what the feedback means and what to change>"'
    suggestion = f'"suggestion": {{{example}}}'
    parts = [reasoning, '"answer": null', suggestion] if reasoning_first else [suggestion]
    return "{" + ", ".join(parts) + "}"


def suggestion_model(
    variables: Sequence[VariableSpec],
    name: str = "OptimizerReply",
    require_all: bool = False,
    reasoning_first: bool = True,
) -> type[BaseModel]:
    """A pydantic model {reasoning, answer, suggestion: {variable: value}}.

    With `require_all`, every variable is a required property (a small model under a grammar then always
    writes a value; optimizers set it when a step shows few variables), else each is optional.
    The JSON schema is strict (typed properties, no others, reasoning and suggestion required), which is what
    a constrained backend follows; validation is lenient (any value, extra keys kept), so a reply that is
    JSON at all is never sent back for a repair round: optotrace's own casting (validate.py) judges the
    values and says precisely what was wrong.
    """
    fields: dict[str, Any] = {}
    for i, spec in enumerate(variables):
        extra = _JSON_TYPES.get(spec.kind)  # not nullable: a small model under a grammar would write null
        fields[_field_name(i, spec.name)] = (
            Any,
            Field(default=None, alias=spec.name, description=_describe(spec), json_schema_extra=extra),
        )
    def tidy(schema: dict[str, Any], *_: Any) -> None:
        _tidy(schema)
        for prop in schema.get("properties", {}).values():
            prop.pop("default", None)
        if require_all:
            schema["required"] = list(schema.get("properties", {}))

    suggestion = create_model(  # type: ignore[call-overload]
        f"{name}Suggestion",
        __config__=ConfigDict(extra="allow", populate_by_name=True, json_schema_extra=tidy),
        **fields,
    )
    reasoning = (
        Any,
        Field(
            default="",
            description="brief reasoning: what the feedback says and how the variables should change",
            json_schema_extra={"type": "string"},
        ),
    )
    answer = (Any, Field(default=None, description="an answer, only if the task asks for one",
                         json_schema_extra={"anyOf": [{"type": "string"}, {"type": "null"}]}))
    sugg = (
        Optional[suggestion],  # noqa: UP045 (create_model wants a runtime type object)
        Field(default=None, description="new values for the variables to change, keyed by variable name"),
    )

    def reply_schema(schema: dict[str, Any], *_: Any) -> None:
        _reply_schema(schema)
        if not reasoning_first:
            schema["required"] = ["suggestion"]

    config = ConfigDict(extra="ignore", json_schema_extra=reply_schema)
    if reasoning_first:
        return create_model(name, __config__=config, reasoning=reasoning, answer=answer, suggestion=sugg)  # type: ignore[call-overload]
    return create_model(name, __config__=config, suggestion=sugg, reasoning=reasoning)  # type: ignore[call-overload]


def suggestion_values(parsed: BaseModel | Mapping[str, Any] | None) -> dict[str, Any]:
    """{variable name: value} for the variables the parsed reply sets (None values dropped)."""
    if parsed is None:
        return {}
    if isinstance(parsed, BaseModel):
        sugg = getattr(parsed, "suggestion", None)
        if sugg is None:
            return {}
        data = sugg.model_dump(by_alias=True) if isinstance(sugg, BaseModel) else dict(sugg)
    else:
        data = dict(parsed.get("suggestion") or {})
    return {k: v for k, v in data.items() if v is not None}
