"""complete_many / acomplete_many keep the order and bound the concurrency; acomplete works."""

from __future__ import annotations

import random
import threading
import time

import pytest
from llm_servers import FakeOpenAIServer
from pydantic import BaseModel

from optotrace.llm import LLMError, ScriptedLLM, get_llm


class Echo(BaseModel):
    n: int


class Gauge:
    """Counts callers inside at once; a barrier proves `width` of them really do run together."""

    def __init__(self, width: int) -> None:
        self.active = self.peak = 0
        self.lock = threading.Lock()
        self.barrier = threading.Barrier(width, timeout=10)

    def __call__(self, messages: list[dict[str, str]]) -> str:
        with self.lock:
            self.active += 1
            self.peak = max(self.peak, self.active)
        try:
            self.barrier.wait()
            time.sleep(random.random() * 0.01)
            return "re: " + messages[-1]["content"]
        finally:
            with self.lock:
                self.active -= 1


def test_order_is_kept_and_concurrency_is_bounded() -> None:
    gauge = Gauge(width=4)
    llm = ScriptedLLM(gauge)
    prompts = [f"p{i}" for i in range(24)]
    results = llm.complete_many(prompts, concurrency=4)
    assert [r.text for r in results] == [f"re: p{i}" for i in range(24)]
    assert gauge.peak == 4


async def test_async_batch_keeps_order_and_bound() -> None:
    gauge = Gauge(width=3)
    llm = ScriptedLLM(gauge)
    results = await llm.acomplete_many([f"p{i}" for i in range(9)], concurrency=3)
    assert [r.text for r in results] == [f"re: p{i}" for i in range(9)]
    assert gauge.peak == 3


def test_requests_may_be_dicts_of_complete_arguments() -> None:
    llm = ScriptedLLM(lambda m: f'{{"n": {len(m[-1]["content"])}}}')
    batch = [{"messages": "x" * i, "response_model": Echo, "temperature": 0.0} for i in range(1, 6)]
    assert [r.parsed.n for r in llm.complete_many(batch, concurrency=2)] == [1, 2, 3, 4, 5]
    with pytest.raises(LLMError, match="messages"):
        llm.complete_many([{"prompt": "no messages key"}])


def test_failures_raise_or_come_back_in_place() -> None:
    llm = ScriptedLLM(rules=[("bad", LLMError("scripted failure")), (".*", "ok")])
    with pytest.raises(LLMError, match="scripted failure"):
        llm.complete_many(["fine", "bad", "fine"])
    results = llm.complete_many(["fine", "bad", "fine"], return_exceptions=True)
    assert results[0].text == "ok" and isinstance(results[1], LLMError) and results[2].text == "ok"


def test_concurrent_http_batch_against_a_server() -> None:
    with FakeOpenAIServer(delay=0.05) as server:
        llm = get_llm("openai:m", base_url=server.base_url, cache=False)
        results = llm.complete_many([f"n{i}" for i in range(32)], concurrency=16)
    assert [r.text for r in results] == [f"n{i}" for i in range(32)]
    assert len(server.requests) == 32


async def test_acomplete_over_http() -> None:
    with FakeOpenAIServer() as server:
        llm = get_llm("openai:m", base_url=server.base_url, cache=False)
        results = await llm.acomplete_many([f"a{i}" for i in range(8)], concurrency=4)
    assert [r.text for r in results] == [f"a{i}" for i in range(8)]
