"""The LLM cache is an optimization (issue 12, item 7): a new file opened by many real processes at once, an
entry that is not JSON, a scribbled database file, a file damaged between the call and the write: none of
them fails a call or loses a paid answer."""

from __future__ import annotations

import logging
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from llm_servers import FakeOpenAIServer

from optotrace.llm import ScriptedLLM, get_llm
from optotrace.llm.cache import CompletionCache

RACER = """
import os, sys, time
from optotrace.llm import ScriptedLLM
path, me, go = sys.argv[1], sys.argv[2], sys.argv[3]
while not os.path.exists(go):
    time.sleep(0.001)
llm = ScriptedLLM(lambda m: "answer to " + m[-1]["content"], cache=path)
for i in range(10):
    llm.complete(f"{me}-q{i}")
print("ok")
"""


def test_many_processes_opening_a_new_cache_at_once_all_succeed_and_lose_nothing(tmp_path: Path) -> None:
    path, go, n = tmp_path / "fresh" / "llm.sqlite", tmp_path / "go", 8
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    procs = [subprocess.Popen([sys.executable, "-c", RACER, str(path), str(k), str(go)], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, env=env) for k in range(n)]
    time.sleep(2.0)
    go.touch()
    for p in procs:
        out, err = p.communicate(timeout=180)
        assert p.returncode == 0, err.decode()[-2000:]
    assert len(CompletionCache(path)) == n * 10
    llm = ScriptedLLM(replies=[], cache=path)  # every answer must come from the file
    assert llm.complete("3-q7").text == "answer to 3-q7"


def test_an_entry_that_is_not_json_is_a_miss_logged_once(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "c.sqlite"
    with FakeOpenAIServer() as server:
        llm = get_llm("openai:m", base_url=server.base_url, cache=path)
        llm.complete("one")
        llm.complete("two")
        con = sqlite3.connect(path)
        con.execute("UPDATE completions SET value = '{\"text\": broken'")
        con.commit()
        con.close()
        caplog.set_level(logging.WARNING)
        again = [llm.complete("one"), llm.complete("two")]
        assert [c.text for c in again] == ["one", "two"] and not any(c.cached for c in again)
        assert len(server.requests) == 4
        assert llm.complete("one").cached  # the miss was written back
    assert sum("not JSON" in r.getMessage() for r in caplog.records) == 1


def test_a_scribbled_cache_file_is_moved_aside_with_a_warning(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "c.sqlite"
    first = ScriptedLLM(["a"], cache=path)
    first.complete("q")
    assert first.cache is not None
    first.cache.close()  # the last connection checkpoints the WAL into the file: all of it is in the file now
    path.write_bytes(b"this is not a database " * 500)
    caplog.set_level(logging.WARNING)
    llm = ScriptedLLM(["fresh"], cache=path)
    assert llm.complete("q").text == "fresh"
    assert any(".corrupt-" in p.name for p in tmp_path.iterdir())
    assert any("moved it to" in r.getMessage() for r in caplog.records)
    assert ScriptedLLM(replies=[], cache=path).complete("q").text == "fresh"


def test_a_file_damaged_under_an_open_cache_does_not_fail_the_call(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite"
    first = ScriptedLLM(lambda m: "old " + m[-1]["content"], cache=path)
    for i in range(200):
        first.complete(f"question {i} " + "pad " * 20)
    assert first.cache is not None
    first.cache.close()  # checkpointed: every page is in the file
    with FakeOpenAIServer() as server:
        llm = get_llm("openai:m", base_url=server.base_url, cache=path)  # opened while the file is sound
        with path.open("r+b") as fh:  # then every page but the first (the schema) is scribbled over
            fh.seek(4096)
            fh.write(os.urandom(path.stat().st_size - 4096))
        reply = llm.complete("paid question")
        assert reply.text == "paid question" and len(server.requests) == 1
        again = get_llm("openai:m", base_url=server.base_url, cache=path)  # a new process would see it too
        assert again.complete("paid question").cached and len(server.requests) == 1
