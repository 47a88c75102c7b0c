"""Real HTTP against llama.cpp's OpenAI-compatible server running the embedded model."""

from __future__ import annotations

import pytest
from pydantic import BaseModel

from optotrace.llm import get_llm

pytestmark = pytest.mark.xdist_group("llama_server")


class City(BaseModel):
    name: str
    country: str


QUESTION = [
    {"role": "system", "content": "You are a helpful geography assistant."},
    {"role": "user", "content": "Name one city in France."},
]


@pytest.mark.parametrize("spec", ["openai:smollm2", "litellm:openai/smollm2"])
def test_chat_completes_and_counts_tokens(llama_server: str, spec: str) -> None:
    llm = get_llm(spec, base_url=llama_server, cache=False, timeout=120)
    result = llm.complete("What is the capital of France? Answer in one word.", max_tokens=16)
    assert result.text.strip()
    assert result.usage.prompt_tokens > 5 and 0 < result.usage.completion_tokens <= 16
    assert llm.usage.total_tokens == result.usage.total_tokens
    assert llm.count_tokens("The capital of France is Paris.") > 0


@pytest.mark.parametrize("spec", ["openai:smollm2", "litellm:openai/smollm2"])
def test_structured_reply_is_schema_valid(llama_server: str, spec: str) -> None:
    llm = get_llm(spec, base_url=llama_server, cache=False, timeout=120)
    result = llm.complete(QUESTION, response_model=City, max_tokens=64)
    assert isinstance(result.parsed, City)
    assert result.parsed.name.strip() and result.parsed.country.strip()


async def test_async_structured_reply(llama_server: str) -> None:
    llm = get_llm("openai:smollm2", base_url=llama_server, cache=False, timeout=120)
    result = await llm.acomplete(QUESTION, response_model=City, max_tokens=64)
    assert isinstance(result.parsed, City)


def test_cache_hit_skips_the_server(llama_server: str, tmp_path) -> None:
    llm = get_llm("openai:smollm2", base_url=llama_server, cache=tmp_path / "c.sqlite", timeout=120)
    first = llm.complete("Say hello.", max_tokens=8)
    again = get_llm("openai:smollm2", base_url=llama_server, cache=tmp_path / "c.sqlite").complete(
        "Say hello.", max_tokens=8
    )
    assert again.cached and again.text == first.text
