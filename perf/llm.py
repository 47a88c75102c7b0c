"""LLM layer performance: cache-hit overhead, batch concurrency against a slow server, embedded tokens/s.

    .venv/bin/python perf/llm.py

Prints figures and ratios measured in this run (no absolute thresholds; the concurrency goal is >= 10x).
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))  # the test servers live there

from llm_servers import FakeOpenAIServer  # noqa: E402

from optotrace.llm import ScriptedLLM, get_llm  # noqa: E402


def cache_hit_overhead(calls: int = 2000) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        uncached = ScriptedLLM(lambda m: "reply", cache=False)
        cached = ScriptedLLM(lambda m: "reply", cache=Path(tmp) / "perf.sqlite")
        messages = [
            {"role": "system", "content": "You are terse."},
            {"role": "user", "content": "Say hi. " * 20},
        ]
        cached.complete(messages)
        t0 = time.perf_counter()
        for _ in range(calls):
            assert cached.complete(messages).cached
        hit_us = (time.perf_counter() - t0) / calls * 1e6
        t0 = time.perf_counter()
        for _ in range(calls):
            uncached.complete(messages)
        scripted_us = (time.perf_counter() - t0) / calls * 1e6
    print(f"cache hit: {hit_us:.0f} us per call (a scripted call without the cache: {scripted_us:.0f} us)")


def batch_concurrency(n: int = 64, delay: float = 0.2, concurrency: int = 16) -> None:
    with FakeOpenAIServer(delay=delay) as server:
        llm = get_llm("openai:perf", base_url=server.base_url, cache=False)
        prompts = [f"request {i}" for i in range(n)]
        llm.complete("warm-up")
        t0 = time.perf_counter()
        sequential = [llm.complete(p) for p in prompts]
        seq_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        batched = llm.complete_many(prompts, concurrency=concurrency)
        par_s = time.perf_counter() - t0
    assert [r.text for r in batched] == [r.text for r in sequential] == prompts
    print(
        f"{n} requests at {delay * 1000:.0f} ms each: sequential {seq_s:.2f} s, concurrency={concurrency} "
        f"{par_s:.2f} s -> {seq_s / par_s:.1f}x faster (goal >= 10x)"
    )


def embedded_tokens_per_second(max_tokens: int = 128) -> None:
    try:
        llm = get_llm("local", cache=False)
        llm.complete("Hi.", max_tokens=4)  # load the model outside the measurement
    except Exception as exc:
        print(f"embedded model: skipped ({exc})")
        return
    t0 = time.perf_counter()
    result = llm.complete("Write a short story about a lighthouse keeper.", max_tokens=max_tokens)
    elapsed = time.perf_counter() - t0
    tokens = result.usage.completion_tokens
    print(
        f"embedded model ({llm.model}, {llm.n_threads} threads): {tokens} tokens in {elapsed:.2f} s "
        f"-> {tokens / elapsed:.1f} tokens/s (prompt {result.usage.prompt_tokens} tokens included in the time)"
    )


def main() -> None:
    cache_hit_overhead()
    batch_concurrency()
    embedded_tokens_per_second()


if __name__ == "__main__":
    main()
