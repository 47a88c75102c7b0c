"""An embedded model in-process (llama-cpp-python, SmolLM2 for speed): loaded once, real tokenizer, structured
replies."""

from __future__ import annotations

import importlib.util
import os

import pytest
from pydantic import BaseModel

from optotrace.llm import get_llm

pytestmark = [
    pytest.mark.xdist_group("llama_server"),
    pytest.mark.skipif(
        importlib.util.find_spec("llama_cpp") is None, reason="llama-cpp-python is not installed"
    ),
]


OPTIONS = {"cache": False, "n_threads": 1}  # one thread: the tests share the machine (see llm_servers)


class Pet(BaseModel):
    name: str
    species: str


@pytest.fixture(scope="module")
def local():
    try:
        return get_llm("local:smollm2", **OPTIONS)
    except Exception as exc:  # no weights: say so instead of failing obscurely
        pytest.skip(f"embedded model unavailable: {exc}")


def test_structured_reply_validates(local) -> None:
    result = local.complete(
        [{"role": "user", "content": "Invent a pet: give its name and its species."}],
        response_model=Pet,
        max_tokens=64,
    )
    assert isinstance(result.parsed, Pet)
    assert result.usage.prompt_tokens > 0 and result.usage.completion_tokens > 0
    assert result.usage.cost_usd == 0.0


def test_plain_chat_and_its_tokenizer(local) -> None:
    result = local.complete("Say hi.", max_tokens=8)
    assert result.text.strip()
    assert local.count_tokens("hello world") == 2  # the model's own tokenizer, not the 4-characters rule
    assert local.count_tokens("") == 0


def test_the_model_is_loaded_once(local) -> None:
    other = get_llm("local:smollm2", **OPTIONS)
    assert other._loaded() is local._loaded()
    assert local.spec == "local:smollm2"
    assert get_llm("local:smollm2", cache=False).n_threads == (os.cpu_count() or 1)  # the default: every core
