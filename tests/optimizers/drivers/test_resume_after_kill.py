"""Every strategy of `optimize()` writes its run directory and resumes after a kill (SIGKILL, no cleanup): the
resumed run ends exactly where an uninterrupted one does, spends the same calls in all, and sends again only
what the killed run had not (the Trainer from its last checkpoint, the searches by replaying their reply
journal)."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest

TASK = Path(__file__).with_name("kill_resume_task.py")
STRATEGIES = ["train", "population", "race", "demos", "bo", "pareto"]


def run(strategy: str, run_dir: Path, die_after: int = 0, resume: bool = False) -> subprocess.CompletedProcess:
    args = [sys.executable, str(TASK), strategy, str(run_dir), str(die_after), *(["resume"] if resume else [])]
    return subprocess.run(args, capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_a_killed_run_resumes_where_it_stopped(strategy: str, tmp_path: Path) -> None:
    if strategy in ("bo", "pareto"):
        pytest.importorskip("torch")
    whole = run(strategy, tmp_path / "whole")
    assert whole.returncode == 0, whole.stderr[-2000:]
    expected = json.loads(whole.stdout.strip().splitlines()[-1])
    assert (tmp_path / "whole" / "summary.json").exists() and (tmp_path / "whole" / "state.json").exists()

    killed = run(strategy, tmp_path / "cut", die_after=9)
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    assert (tmp_path / "cut" / "config.json").exists()
    again = run(strategy, tmp_path / "cut")  # neither resume nor overwrite: the earlier run is not replaced
    assert again.returncode != 0 and "already holds a run" in again.stderr

    resumed = run(strategy, tmp_path / "cut", resume=True)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    got = json.loads(resumed.stdout.strip().splitlines()[-1])
    assert got["best_values"] == expected["best_values"]
    assert got["best_score"] == expected["best_score"] and got["initial_score"] == expected["initial_score"]
    assert got["calls"] == expected["calls"] and got["stopped"] == expected["stopped"]
    if expected["sent"]:  # what the killed run had received was not asked for again
        assert got["sent"] < expected["sent"]
    summary = json.loads((tmp_path / "cut" / "summary.json").read_text())
    assert summary["best_score"] == expected["best_score"]
