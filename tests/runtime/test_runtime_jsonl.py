"""The JSONL record store: fsynced appends, torn-line repair (a real killed writer), last-wins load."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
from pathlib import Path

from optotrace.runtime import JsonlStore

KILLED_WRITER = """
import json, os, sys
path = sys.argv[1]
with open(path, "ab") as fh:
    fh.write((json.dumps({"key": "done", "n": 1}) + "\\n").encode())
    fh.flush(); os.fsync(fh.fileno())
    fh.write(b'{"key": "half", "n": 2, "text": "cut off in the mid')   # the kill lands here
    fh.flush(); os.fsync(fh.fileno())
    print("ready", flush=True)
    sys.stdin.read()
"""


def test_last_record_of_a_key_wins(tmp_path: Path) -> None:
    store = JsonlStore(tmp_path / "r.jsonl", key="key")
    store.append({"key": "a", "v": 1})
    store.append({"key": "b", "v": 2})
    store.append({"key": "a", "v": 3})
    assert store.load() == {"a": {"key": "a", "v": 3}, "b": {"key": "b", "v": 2}}
    assert [r["v"] for r in JsonlStore(tmp_path / "r.jsonl").rows()] == [1, 2, 3]


def test_a_killed_writers_torn_line_is_cut_and_the_next_record_survives(tmp_path: Path) -> None:
    path = tmp_path / "stage.jsonl"
    proc = subprocess.Popen([sys.executable, "-c", KILLED_WRITER, str(path)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE)
    assert proc.stdout is not None and proc.stdout.readline().strip() == b"ready"
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert not path.read_bytes().endswith(b"\n")  # a real torn line
    store = JsonlStore(path)  # opening repairs
    store.append({"key": "next", "n": 3})
    assert set(store.load()) == {"done", "next"}
    assert all(json.loads(line) for line in path.read_text().splitlines())


def test_without_repair_the_fragment_would_swallow_the_next_record(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    path.write_bytes(b'{"key": "a"}\n{"key": "b", "half')
    JsonlStore(path, repair=False).append({"key": "c"})
    assert set(JsonlStore(path, repair=False).load()) == {"a"}  # what the issue saw: "c" is lost
    path.write_bytes(b'{"key": "a"}\n{"key": "b", "half')
    JsonlStore(path).append({"key": "c"})
    assert set(JsonlStore(path).load()) == {"a", "c"}


def test_garbage_lines_are_skipped_with_one_warning(tmp_path: Path, caplog) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "r.jsonl"
    path.write_bytes(b'{"key": 1}\n\x00\xff garbage\n[1, 2]\n{"nokey": 1}\n{"key": 2}\n')
    caplog.set_level("WARNING", logger="optotrace.runtime")
    assert set(JsonlStore(path).load()) == {1, 2}
    assert sum("unreadable line" in r.getMessage() for r in caplog.records) == 1


def test_appends_from_many_threads_are_whole_lines(tmp_path: Path) -> None:
    store = JsonlStore(tmp_path / "r.jsonl", key=lambda r: (r["t"], r["i"]))

    def write(t: int) -> None:
        for i in range(50):
            store.append({"t": t, "i": i, "pad": "x" * 500})

    threads = [threading.Thread(target=write, args=(t,)) for t in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(store.load()) == 400


def test_a_long_files_torn_tail_is_cut_once(tmp_path: Path) -> None:
    path = tmp_path / "big.jsonl"
    with path.open("wb") as fh:
        for i in range(20000):
            fh.write(json.dumps({"key": i, "pad": "y" * 40}).encode() + b"\n")
        fh.write(b'{"key": "torn"')
    assert JsonlStore(path).repair() is False  # cut on open already
    assert path.read_bytes().endswith(b"\n") and len(JsonlStore(path).load()) == 20000
