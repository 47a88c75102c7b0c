"""The SQLite completion cache: hits, persistence across processes, concurrent writers, the off switches."""

from __future__ import annotations

import gc
import logging
import subprocess
import sys
import time
from pathlib import Path

import pytest
from llm_servers import FakeOpenAIServer
from pydantic import BaseModel

from optotrace.llm import ScriptedLLM, get_llm
from optotrace.llm.cache import CompletionCache, cache_key, resolve_cache_path


class Answer(BaseModel):
    answer: str


WRITER = """
import os, sys, time
from optotrace.llm import ScriptedLLM
path, start, stop, go = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
llm = ScriptedLLM(lambda m: "answer to " + m[-1]["content"], cache=path)
deadline = time.time() + 60
while not os.path.exists(go) and time.time() < deadline:
    time.sleep(0.01)
for i in range(start, stop):
    llm.complete(f"q{i}")
print(llm.usage.calls)
"""


def test_a_repeated_call_is_served_from_the_cache(tmp_path: Path) -> None:
    with FakeOpenAIServer() as server:
        llm = get_llm("openai:m", base_url=server.base_url, cache=tmp_path / "c.sqlite")
        first = llm.complete("echo this")
        second = llm.complete("echo this")
    assert (first.cached, second.cached) == (False, True)
    assert second.text == first.text == "echo this"
    assert second.usage.total_tokens == first.usage.total_tokens
    assert len(server.requests) == 1
    assert (llm.usage.calls, llm.usage.cache_hits, llm.usage.total_tokens) == (2, 1, first.usage.total_tokens)


def test_the_cache_is_on_by_default_for_temperature_zero_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPTOTRACE_CACHE", raising=False)
    with FakeOpenAIServer() as server:
        llm = get_llm("openai:m", base_url=server.base_url)  # default file under OPTOTRACE_CACHE_DIR
        assert llm.cache is not None
        assert [llm.complete("x").cached for _ in range(2)] == [False, True]
        assert [llm.complete("x", temperature=0.7).cached for _ in range(2)] == [False, False]
    assert len(server.requests) == 3


def test_structured_results_come_back_validated_from_the_cache(tmp_path: Path) -> None:
    llm = ScriptedLLM(['{"answer": "42"}', "plain"], cache=tmp_path / "c.sqlite")
    assert llm.complete("q", response_model=Answer).parsed == Answer(answer="42")
    hit = llm.complete("q", response_model=Answer)
    assert hit.cached and hit.parsed == Answer(answer="42")
    plain = llm.complete("q")  # no schema: another key
    assert not plain.cached and plain.text == "plain"


@pytest.mark.parametrize("how", ["argument", "environment"])
def test_the_off_switches(how: str, monkeypatch: pytest.MonkeyPatch) -> None:
    options: dict[str, object] = {}
    if how == "argument":
        options["cache"] = False
    else:
        monkeypatch.setenv("OPTOTRACE_CACHE", "off")
    with FakeOpenAIServer() as server:
        llm = get_llm("openai:m", base_url=server.base_url, **options)
        assert llm.cache is None
        assert [llm.complete("x").cached for _ in range(2)] == [False, False]
    assert len(server.requests) == 2


def test_cache_path_resolution(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("OPTOTRACE_CACHE", raising=False)
    monkeypatch.setenv("OPTOTRACE_CACHE_DIR", str(tmp_path / "dir"))
    assert resolve_cache_path(None) == tmp_path / "dir" / "llm.sqlite"
    assert resolve_cache_path(tmp_path / "x.sqlite") == tmp_path / "x.sqlite"
    assert resolve_cache_path(None, default_on=False) is None
    monkeypatch.delenv("OPTOTRACE_CACHE_DIR")
    monkeypatch.setenv("OPTOTRACE_HOME", str(tmp_path / "home"))
    assert resolve_cache_path(True) == tmp_path / "home" / "cache" / "llm.sqlite"
    monkeypatch.setenv("OPTOTRACE_CACHE", "off")
    assert resolve_cache_path(None) is None
    assert resolve_cache_path(True) is not None  # an explicit argument wins over the environment


def test_the_key_covers_every_input() -> None:
    base = ("openai", "m", [{"role": "user", "content": "x"}], {"temperature": 0.0}, None)
    keys = {
        cache_key(*base),
        cache_key("litellm", *base[1:]),
        cache_key(base[0], "m2", *base[2:]),
        cache_key(base[0], base[1], [{"role": "user", "content": "y"}], *base[3:]),
        cache_key(*base[:3], {"temperature": 0.0, "seed": 1}, None),
        cache_key(*base[:4], {"type": "object"}),
    }
    assert len(keys) == 6
    assert cache_key(*base) == cache_key(*base)


def test_the_cache_survives_a_new_process(tmp_path: Path) -> None:
    path, go = tmp_path / "shared.sqlite", tmp_path / "go"
    go.touch()
    subprocess.run([sys.executable, "-c", WRITER, str(path), "0", "5", str(go)], check=True, timeout=120)
    llm = ScriptedLLM(replies=[], cache=path)  # no replies: every answer must come from the file
    assert [llm.complete(f"q{i}").text for i in range(5)] == [f"answer to q{i}" for i in range(5)]
    assert llm.usage.cache_hits == 5 and not llm.requests


def test_two_processes_writing_at_once_lose_nothing(tmp_path: Path) -> None:
    path, go, n = tmp_path / "shared.sqlite", tmp_path / "go", 300
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, str(path), str(a), str(b), str(go)], stdout=subprocess.PIPE
        )
        for a, b in ((0, n), (n, 2 * n))
    ]
    time.sleep(1.0)  # let both import and open the cache, then release them together
    go.touch()
    for p in procs:
        out, _ = p.communicate(timeout=180)
        assert p.returncode == 0 and out.strip() == str(n).encode()
    cache = CompletionCache(path)
    assert len(cache) == 2 * n
    llm = ScriptedLLM(replies=[], cache=path)
    assert all(llm.complete(f"q{i}").text == f"answer to q{i}" for i in range(2 * n))


def test_a_closing_log_line_counts_the_hits(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="optotrace.llm")
    llm = ScriptedLLM(["a"], cache=tmp_path / "c.sqlite")
    llm.complete("q")
    llm.complete("q")
    assert "1 from cache" in llm.usage.summary()
    del llm
    gc.collect()
    assert any("2 calls (1 from cache" in r.getMessage() for r in caplog.records)
