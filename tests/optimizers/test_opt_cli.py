from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

import optotrace.cli.runs  # noqa: F401  (registers `runs`; the package's _register does it too)
import optotrace.cli.train  # noqa: F401  (registers `train`)
from optotrace.cli import app


def test_train_and_show_a_run(tmp_path: Path) -> None:
    script = tmp_path / "optimizer.jsonl"
    script.write_text(json.dumps({"pattern": ".*", "reply": {"reasoning": "x is 8", "suggestion": {"x": 8}}}) + "\n")
    run_dir = tmp_path / "run"
    runner = CliRunner()
    result = runner.invoke(app, ["train", "numeric", "--model", f"scripted:{script}", "--steps", "3",
                                 "--run-dir", str(run_dir)])
    assert result.exit_code == 0, result.output
    assert "after 1.000" in result.output and str(run_dir) in result.output
    shown = runner.invoke(app, ["runs", "show", str(run_dir)])
    assert shown.exit_code == 0, shown.output
    assert "best score 1.000" in shown.output and "x" in shown.output


def test_show_refuses_a_directory_without_a_run(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["runs", "show", str(tmp_path)])
    assert result.exit_code != 0 and "state.json" in result.output


def test_unknown_example_is_a_clear_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["train", "nonexistent-example", "--run-dir", str(tmp_path)])
    assert result.exit_code != 0 and "no example" in result.output
