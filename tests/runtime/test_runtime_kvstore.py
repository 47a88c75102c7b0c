"""The SQLite key-value store: first open from many real processes at once, garbage values, scribbled files."""

from __future__ import annotations

import logging
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from optotrace.runtime import KVStore

OPENER = """
import os, sys, time
from optotrace.runtime import KVStore
path, me, go = sys.argv[1], sys.argv[2], sys.argv[3]
while not os.path.exists(go):
    time.sleep(0.001)
store = KVStore(path)
for i in range(20):
    assert store.put(f"{me}-{i}", {"who": me, "i": i}), "a write was dropped"
print("ok")
"""


def _spawn_at_once(path: Path, n: int, script: str, go: Path) -> list[subprocess.Popen[bytes]]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    procs = [subprocess.Popen([sys.executable, "-c", script, str(path), str(k), str(go)], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, env=env) for k in range(n)]
    time.sleep(2.0)  # every process imported and is waiting; then all open the new file together
    go.touch()
    return procs


def test_many_processes_opening_a_new_file_at_once_all_succeed(tmp_path: Path) -> None:
    path, n = tmp_path / "new" / "kv.sqlite", 8
    for p in _spawn_at_once(path, n, OPENER, tmp_path / "go"):
        out, err = p.communicate(timeout=180)
        assert p.returncode == 0, err.decode()[-2000:]
        assert out.strip() == b"ok"
    assert len(KVStore(path)) == n * 20


def test_values_persist_and_reopen(tmp_path: Path) -> None:
    store = KVStore(tmp_path / "kv.sqlite", table="things")
    assert store.put("a", {"x": [1, 2]}) and store.get("a") == {"x": [1, 2]} and store.get("b") is None
    store.close()
    assert KVStore(tmp_path / "kv.sqlite", table="things").get("a") == {"x": [1, 2]}


def test_a_value_that_is_not_json_is_a_miss_logged_once(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "kv.sqlite"
    store = KVStore(path)
    store.put("good", 1)
    con = sqlite3.connect(path)
    con.execute("INSERT INTO kv (key, value, created) VALUES ('bad1', '{not json', 0), ('bad2', x'00ff', 0)")
    con.commit()
    con.close()
    caplog.set_level(logging.WARNING, logger="optotrace.runtime")
    assert store.get("bad1") is None and store.get("bad2") is None and store.get("good") == 1
    assert sum("not JSON" in r.getMessage() for r in caplog.records) == 1
    assert store.put("bad1", 2) and store.get("bad1") == 2  # the next write replaces it


def test_a_scribbled_file_is_moved_aside_and_rebuilt(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "kv.sqlite"
    store = KVStore(path)
    for i in range(50):
        store.put(f"k{i}", {"i": i})
    store.close()
    with path.open("r+b") as fh:
        fh.write(os.urandom(4096))  # the header and the first page are garbage now
    caplog.set_level(logging.WARNING, logger="optotrace.runtime")
    fresh = KVStore(path)
    assert fresh.get("k1") is None and fresh.put("k1", "again") and fresh.get("k1") == "again"
    aside = [p for p in tmp_path.iterdir() if ".corrupt-" in p.name and not p.name.endswith(("-wal", "-shm"))]
    assert len(aside) == 1
    assert any("moved it to" in r.getMessage() for r in caplog.records)


def test_a_file_damaged_while_open_is_rebuilt_on_the_next_use(tmp_path: Path) -> None:
    path = tmp_path / "kv.sqlite"
    store = KVStore(path)
    for i in range(400):
        store.put(f"k{i}", {"pad": "z" * 200, "i": i})
    # write everything into the main file, then scribble over its pages (not the header)
    store._run("checkpoint", "PRAGMA wal_checkpoint(TRUNCATE)", ())
    size = path.stat().st_size
    with path.open("r+b") as fh:
        fh.seek(4096)
        fh.write(os.urandom(size - 4096))
    got = [store.get(f"k{i}") for i in range(0, 400, 37)]  # never raises: misses or (stale) hits
    assert all(g is None or isinstance(g, dict) for g in got)
    assert store.put("after", 1) and store.get("after") == 1
