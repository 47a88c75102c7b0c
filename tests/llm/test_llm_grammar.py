"""Structured output is enforced on local models: every schema optotrace sends compiles to a llama.cpp grammar
(rewritten into the supported subset), a schema that cannot is refused loudly, and the embedded model
(SmolLM2 here, for speed) cannot return a reply of the wrong shape."""

from __future__ import annotations

import importlib.util
import json
from typing import Any

import pytest
from pydantic import BaseModel

from optotrace.agents.modeler.replies import SpecAnswer
from optotrace.llm import get_llm
from optotrace.llm.backends.formats import response_format
from optotrace.llm.grammar import ANY_VALUE, GrammarError, compile_grammar, grammar_schema
from optotrace.llm.results import Request
from optotrace.llm.structured import with_schema_hint
from optotrace.modeling.spec import ModelSpec
from optotrace.optimizers.proposal.schema import VariableSpec, suggestion_model

needs_llama = pytest.mark.skipif(
    importlib.util.find_spec("llama_cpp") is None, reason="llama-cpp-python is not installed (make install)"
)
jsonschema = pytest.importorskip("jsonschema", reason="jsonschema validates the replies' shape")


def step_model() -> type[BaseModel]:
    return suggestion_model(
        [
            VariableSpec("instruction", "str", "the system prompt"),
            VariableSpec("k", "float", "a scale"),
            VariableSpec("f", "code", "a function"),
        ]
    )


SCHEMAS = {
    "ModelSpec": ModelSpec.model_json_schema(),
    "SpecAnswer": SpecAnswer.model_json_schema(),
    "OptoPrime step": step_model().model_json_schema(),
}


def test_the_rewrite_keeps_meaning_in_the_supported_subset() -> None:
    schema = {
        "type": "object",
        "properties": {
            "anything": {"title": "Anything"},
            "values": {"type": "array", "items": {}},
            "pair": {
                "type": "array",
                "prefixItems": [{"type": "string"}, {"type": "integer"}],
                "items": False,
                "minItems": 2,
                "maxItems": 2,
            },
            "node": {"$ref": "#/$defs/Node"},
            "leaf": {"allOf": [{"$ref": "#/$defs/Leaf"}], "description": "a leaf"},
            "code": {"type": "string", "pattern": "def "},
        },
        "$defs": {
            "Leaf": {"type": "object", "properties": {"v": {"type": "number"}}, "required": ["v"]},
            "Node": {
                "type": "object",
                "properties": {"kids": {"type": "array", "items": {"$ref": "#/$defs/Node"}}},
            },
        },
    }
    out = grammar_schema(schema)
    props = out["properties"]
    assert props["anything"] == {"title": "Anything", **ANY_VALUE}
    assert props["values"]["items"] == ANY_VALUE
    assert "items" not in props["pair"] and len(props["pair"]["prefixItems"]) == 2
    assert props["leaf"]["required"] == ["v"] and props["leaf"]["description"] == "a leaf"
    assert "pattern" not in props["code"]
    assert props["node"]["properties"]["kids"]["items"] == {"$ref": "#/$defs/Node"}  # recursion stays a ref
    assert set(out["$defs"]) == {"Node"}
    valid = {
        "anything": [1],
        "values": [None, "x"],
        "pair": ["a", 1],
        "node": {"kids": [{"kids": []}]},
        "leaf": {"v": 1.5},
        "code": "def f(): pass",
    }
    jsonschema.validate(valid, schema)
    jsonschema.validate(valid, out)


def test_a_schema_that_cannot_be_rewritten_is_refused() -> None:
    with pytest.raises(GrammarError, match="not a local definition"):
        grammar_schema({"$ref": "https://example.com/schema.json"})


@needs_llama
@pytest.mark.parametrize("name", list(SCHEMAS))
def test_every_schema_optotrace_sends_compiles_to_a_grammar(name: str) -> None:
    grammar = compile_grammar(SCHEMAS[name])
    assert "root ::=" in grammar
    # the server path sends the same rewritten schema, which llama.cpp compiles without falling back
    fmt = response_format("json_object_schema", SCHEMAS[name], name)
    assert fmt is not None and fmt["schema"] == grammar_schema(SCHEMAS[name])


@needs_llama
@pytest.mark.parametrize("name", list(SCHEMAS))
def test_strings_in_a_grammar_cannot_hold_raw_control_characters(name: str) -> None:
    """A raw newline inside a JSON string is invalid JSON; the converter we call would allow it."""
    from llama_cpp.llama_grammar import LlamaGrammar

    grammar = compile_grammar(SCHEMAS[name])
    char_rules = [line for line in grammar.splitlines() if line.startswith("char ::=")]
    assert char_rules and all(r"\x00-\x1F" in rule for rule in char_rules)
    LlamaGrammar.from_string(grammar, verbose=False)  # llama.cpp parses the rewritten rule


@needs_llama
def test_llama_cpp_alone_fails_on_the_modelspec_schema() -> None:
    """Why the rewrite exists: llama-cpp-python's converter on the raw schema (it would then fall back)."""
    from llama_cpp.llama_grammar import json_schema_to_gbnf

    with pytest.raises(Exception):  # noqa: B017 - KeyError('prefixItems') or an AssertionError
        json_schema_to_gbnf(json.dumps(ModelSpec.model_json_schema()))


def _replies(llm: Any, schema: dict[str, Any], prompt: str, temperatures: list[float]) -> list[str]:
    messages = with_schema_hint([{"role": "user", "content": prompt}], schema)  # what LLM.complete sends
    texts = []
    for seed, temperature in enumerate(temperatures):
        request = Request(
            messages=messages,
            temperature=temperature,
            max_tokens=1024,
            seed=seed,
            schema=schema,
            schema_name="reply",
        )
        texts.append(llm._raw(request).text)  # the raw reply: no repair round, no lenient parsing
    return texts


@needs_llama
@pytest.mark.slow
@pytest.mark.timeout(1200)  # grammar sampling is slow on a busy machine; about a minute on an idle one
@pytest.mark.xdist_group("llama_server")
@pytest.mark.parametrize(
    ("name", "prompt", "temperatures", "model"),
    [
        # the prompt asks for the wrong shape outright (what the 0.5B model wrote without a grammar)
        pytest.param(
            "SpecAnswer",
            'The model of: maximise x subject to x <= 4. Reply with exactly {"spec": "Model"}.',
            [0.0],
            "local",  # SmolLM2 fills one string up to max_tokens on this schema; the default model finishes
        ),
        (
            "OptoPrime step",
            "The instruction 'Read.' makes the model answer in sentences. Improve the variables.",
            [0.0, 0.8],
            "local:smollm2",
        ),
    ],
)
def test_the_embedded_model_cannot_reply_in_the_wrong_shape(
    name: str, prompt: str, temperatures: list[float], model: str
) -> None:
    try:
        llm = get_llm(model, cache=False, n_threads=1)
    except Exception as exc:
        pytest.skip(f"embedded model unavailable: {exc}")
    schema = SCHEMAS[name]
    for text in _replies(llm, schema, prompt, temperatures):
        jsonschema.validate(json.loads(text), schema)
