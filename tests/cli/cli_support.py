"""Helpers of the command-line tests: run the real CLI (in-process with CliRunner, or as a subprocess) and check
that a mistake ends as one short message with exit code 2 and no traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner, Result

from optotrace.cli import app


def invoke(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(app, list(args), env=env)


def assert_user_error(result: Result, *needles: str) -> str:
    """Exit code 2, one `error:` line naming what to fix, nothing like a traceback; returns that line."""
    assert result.exit_code == 2, (result.exit_code, result.output, result.exception)
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output and "Error:" not in result.output, result.output
    errors = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(errors) == 1 and errors[0].startswith("error: "), result.stderr
    assert len(errors[0]) < 400, errors[0]
    for needle in needles:
        assert needle in errors[0], (needle, errors[0])
    return errors[0]


def run_cli(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """The real `optotrace` command in a child process (PYTHONPATH carries the checkout under test)."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run([sys.executable, "-m", "optotrace.cli", *args], cwd=cwd, env=full_env,
                          capture_output=True, text=True, timeout=300)


def optimizer_script(tmp_path: Path) -> Path:
    """A scripted optimizer LLM for the numeric example: it always suggests x = 8 (the optimum)."""
    script = tmp_path / "optimizer.jsonl"
    script.write_text(json.dumps({"pattern": ".*", "reply": {"reasoning": "x is 8", "suggestion": {"x": 8}}}) + "\n")
    return script


def train_numeric(tmp_path: Path, run_dir: Path, *extra: str) -> Result:
    return invoke("train", "numeric", "--model", f"scripted:{optimizer_script(tmp_path)}", "--steps", "2",
                  "--run-dir", str(run_dir), *extra)
