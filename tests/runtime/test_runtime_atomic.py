"""Atomic writes and the cleaning of temporary files a killed writer left behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from optotrace.runtime import atomic_write_text, clean_stale_temps

# A writer killed between writing its temporary file and renaming it over the target.
KILLED = """
import os, sys, tempfile
target = sys.argv[1]
fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(target) + ".", suffix=".tmp", dir=os.path.dirname(target))
os.write(fd, b'{"step": 4}\\n')
os.fsync(fd)
print("ready", flush=True)
sys.stdin.read()
"""


def test_a_reader_sees_the_old_or_the_new_file(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "state.json"
    atomic_write_text(path, "old")
    atomic_write_text(path, "new")
    assert path.read_text() == "new" and os.listdir(path.parent) == ["state.json"]


def test_stale_temps_of_a_killed_writer_are_removed_and_user_files_kept(tmp_path: Path) -> None:
    proc = subprocess.Popen([sys.executable, "-c", KILLED, str(tmp_path / "metrics.jsonl")], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE)
    assert proc.stdout is not None and proc.stdout.readline().strip() == b"ready"
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    (tmp_path / "meta.json.tmp").write_text("{")  # the older NAME.tmp form
    (tmp_path / "notes.tmp").write_text("the user's own file")
    (tmp_path / "metrics.jsonl").write_text('{"step": 3}\n')
    stale = sorted(p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp"))
    assert len(stale) == 3
    removed = clean_stale_temps(tmp_path)
    assert len(removed) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["metrics.jsonl", "notes.tmp"]
