"""copy.deepcopy of LLM clients: what a copy shares with the original (usage and budgets, the cache file) and
what it owns (HTTP clients, a scripted client's remaining replies)."""

from __future__ import annotations

import asyncio
import copy
import importlib.util

import pytest
from llm_servers import FakeOpenAIServer

from optotrace.llm import BudgetExceeded, ScriptedLLM, get_llm


def test_scripted_copy_has_its_own_replies_and_shares_usage_and_cache(tmp_path) -> None:
    llm = ScriptedLLM(["a", "b", "c"], cache=tmp_path / "cache.sqlite")
    assert llm.complete("first").text == "a"
    twin = copy.deepcopy(llm)
    assert twin is not llm and twin.remaining == 2 and len(twin.requests) == 1
    assert twin.complete("second").text == "b" and llm.complete("third").text == "b"
    hit = twin.complete("first")  # answered by the original, cached in the shared file
    assert hit.cached and hit.text == "a"
    assert twin.cache is not llm.cache and twin.cache.path == llm.cache.path
    assert llm.usage.calls == twin.usage.calls == 4 and llm.usage.cache_hits == 1
    assert len(llm.requests) == 2 and len(twin.requests) == 2


def test_copies_share_one_budget() -> None:
    llm = ScriptedLLM(["short reply"] * 20, max_total_tokens=60)
    twins = [copy.deepcopy(llm) for _ in range(3)]
    with pytest.raises(BudgetExceeded):
        for _ in range(4):
            for client in (llm, *twins):
                client.complete("a question")
    assert llm.usage.total_tokens <= 60


def test_copies_run_concurrently() -> None:
    llm = ScriptedLLM(rules=[(".*", "ok")])
    twins = [copy.deepcopy(llm) for _ in range(4)]
    replies = [t.complete_many(["x"] * 5, concurrency=3) for t in twins]
    assert all(r.text == "ok" for batch in replies for r in batch) and llm.usage.calls == 20


def test_openai_copy_opens_its_own_connection(tmp_path) -> None:
    with FakeOpenAIServer() as server:
        llm = get_llm("openai:m", base_url=server.base_url, cache=tmp_path / "c.sqlite", max_retries=0)
        llm.complete("hi")
        asyncio.run(llm.acomplete("hi", temperature=0.5))
        twin = copy.deepcopy(llm)
        assert twin.complete("hello").text and asyncio.run(twin.acomplete("hello", temperature=0.5)).text
        assert twin._client is not llm._client and twin.base_url == llm.base_url
        assert twin.complete("hi").cached  # the original's answer, from the shared cache file
        assert llm.complete("again").text
    assert llm.usage.calls == 6 and twin.usage.calls == 6 and llm.usage.cache_hits == 1


def test_deepcopy_inside_an_object_keeps_one_client() -> None:
    llm = ScriptedLLM(rules=[(".*", "ok")])
    agent = {"planner": llm, "critic": llm}
    twin = copy.deepcopy(agent)
    assert twin["planner"] is twin["critic"] and twin["planner"] is not llm


@pytest.mark.skipif(importlib.util.find_spec("litellm") is None, reason="litellm is not installed")
def test_litellm_copy() -> None:
    with FakeOpenAIServer() as server:
        llm = get_llm("litellm:openai/m", base_url=server.base_url, cache=False, max_retries=0)
        twin = copy.deepcopy(llm)
        assert twin._litellm is llm._litellm and twin.complete("hi").text


def test_local_copy_shares_the_loaded_model() -> None:
    from optotrace.llm import LLMConfigError

    try:
        llm = get_llm("local", cache=False)
    except LLMConfigError as exc:
        pytest.skip(f"no embedded model: {exc}")
    twin = copy.deepcopy(llm)
    assert twin.model_path == llm.model_path and twin._loaded() is llm._loaded()
