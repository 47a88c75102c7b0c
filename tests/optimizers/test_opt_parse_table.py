"""parse_suggestion on a corpus of realistic replies (tests/optimizers/data/parse_corpus.json).

Each entry has the variable names and types, a reply as models write them, and the update a careful
optimizer applies: the parsed value cast to the parameter's type ({"rejected": true} where the cast must
refuse, e.g. 3.7 for an integer), or null when the reply holds nothing usable.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from optotrace.optimizers import SuggestionRejected, parse_suggestion
from optotrace.optimizers.proposal.validate import cast_like, check_code

CORPUS = json.loads((Path(__file__).parent / "data" / "parse_corpus.json").read_text())
LIKE: dict[str, Any] = {"int": 0, "float": 0.0, "str": "", "bool": False, "list": [], "dict": {}}


def applied_update(reply: str, names: list[str], types: dict[str, str]) -> dict[str, Any] | None:
    got = parse_suggestion(reply, names)
    if got is None:
        return None
    out: dict[str, Any] = {}
    for name, value in got.items():
        try:
            if types[name] == "code":
                out[name] = check_code(value).rstrip("\n")
            else:
                out[name] = cast_like(value, LIKE[types[name]])
        except SuggestionRejected:
            out[name] = {"rejected": True}
    return out


def test_corpus_is_large_and_varied() -> None:
    assert len(CORPUS) >= 40
    assert len({e["kind"] for e in CORPUS}) >= 40


@pytest.mark.parametrize("entry", CORPUS, ids=[e["id"] for e in CORPUS])
def test_parse_table(entry: dict[str, Any]) -> None:
    assert applied_update(entry["reply"], entry["names"], entry["types"]) == entry["expected"]


def test_terminate_never_cancels_a_suggestion() -> None:
    reply = 'TERMINATE? No: {"reasoning": "TERMINATE is wrong here", "suggestion": {"x": 2}} TERMINATE'
    assert parse_suggestion(reply, ["x"]) == {"x": 2}


def test_exact_name_beats_normalised_name() -> None:
    assert parse_suggestion('{"suggestion": {"x_1": 1, "x1": 2}}', ["x_1", "x1"]) == {"x_1": 1, "x1": 2}
    # Ambiguous after normalisation: neither is guessed.
    assert parse_suggestion('{"suggestion": {"X-1": 5}}', ["x_1", "x1"]) is None


def test_lone_code_fence_with_code_names() -> None:
    reply = "Here is the fix:\n```python\ndef f(x):\n    return x + 1\n```"
    assert parse_suggestion(reply, ["__code_f"]) is None
    assert parse_suggestion(reply, ["__code_f"], code_names={"__code_f": "f"}) == {"__code_f": "def f(x):\n    return x + 1"}


@pytest.mark.parametrize("reply", ["", "   ", "{}", "[]", "{{{{", "null", '{"suggestion": null}', "<suggestion></suggestion>"])
def test_nothing_usable_is_none(reply: str) -> None:
    assert parse_suggestion(reply, ["x"]) is None
