"""Reports (Markdown, CSV, PNG beside the paper's rows) and the `optotrace optibench` commands."""

from __future__ import annotations

import json
import re
from pathlib import Path

from bench_support import problem, program_printing, shared_or_skip
from typer.testing import CliRunner

import optotrace.cli.optibench  # noqa: F401  (registers the commands until the lead wires it in _register)
from optotrace.benchmarks.report import PAPER_ROWS, write_report
from optotrace.benchmarks.runner import evaluate
from optotrace.cli import app


def _run(tmp_path: Path) -> Path:
    problems = [
        problem({"x": 1.0}, index=0, type_="linear-notable"),
        problem({"x": 2.0}, index=1, type_="linear-table"),
        problem({"x": 3.0}, index=2, type_="nonlinear-notable"),
        problem({"x": 4.0}, index=3, type_="nonlinear-table"),
    ]
    evaluate(lambda p: program_printing({"x": p.results["x"] * (1 if p.index % 2 == 0 else 2)}), problems,
             run_dir=tmp_path, progress=False, meta={"model": "scripted"})
    return tmp_path


def test_report_files(tmp_path: Path) -> None:
    paths = write_report(_run(tmp_path))
    md = paths["markdown"].read_text()
    assert "| **scripted** | 100.0 | 0.0 | 100.0 | 0.0 | 50.0 | 100.0 |" in md
    assert all(row.name in md for row in PAPER_ROWS)
    csv_text = paths["csv"].read_text()
    assert "scripted,all,4,2,50.00" in csv_text
    assert paths["png"].read_bytes()[:4] == b"\x89PNG"


def test_cli_report(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["optibench", "report", str(_run(tmp_path))])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout.strip().splitlines()[-1])["correct"] == 2


def test_cli_reference_limit(tmp_path: Path) -> None:
    shared_or_skip()
    doc = tmp_path / "ref.md"
    result = CliRunner().invoke(app, ["optibench", "reference", "--limit", "3", "--run-dir", str(tmp_path / "r"), "--doc", str(doc)])
    assert result.exit_code == 0, result.output
    line = json.loads(result.stdout.strip().splitlines()[-1])
    assert line == {"correct": 3, "total": 3, "accuracy": 1.0, "run_dir": str(tmp_path / "r")}
    assert "3 / 3" in doc.read_text()


def test_cli_eval_scripted_model(tmp_path: Path) -> None:
    shared = shared_or_skip()
    ref = json.loads((shared / "e-opt.json").read_text())[:2]
    script = tmp_path / "script.jsonl"
    script.write_text("".join(
        json.dumps({"pattern": re.escape(item["question"][:40]), "reply": "```python\n" + item["code"] + "\n```"}) + "\n"
        for item in ref
    ))
    result = CliRunner().invoke(app, ["optibench", "eval", "--model", f"scripted:{script}", "--limit", "2",
                                      "--run-dir", str(tmp_path / "run"), "--concurrency", "2", "--no-cache"])
    assert result.exit_code == 0, result.output
    line = json.loads(result.stdout.strip().splitlines()[-1])
    assert line["total"] == 2 and line["correct"] == 2
    assert (tmp_path / "run" / "report.png").exists()
