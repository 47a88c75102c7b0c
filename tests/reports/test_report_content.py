"""report.html's content, from a real scripted training run: curve, steps, diffs, feedback, reasoning,
rejections, graph, final parameters; tolerance of extra fields; clear errors for a wrong directory."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from report_support import make_run
from typer.testing import CliRunner

from optotrace.cli import app
from optotrace.reports import ReportError, load_run, write_report


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("run") / "run"
    make_run(root, steps=5)
    return root


def test_report_shows_every_step_with_diffs_feedback_reasoning_and_rejections(run_dir: Path) -> None:
    path = write_report(run_dir)
    page = path.read_text(encoding="utf-8")
    assert path == run_dir / "report.html"
    assert len(re.findall(r"<details class='step' id='step-\d+'>", page)) == 5
    assert all(f"href='#step-{n}'" in page for n in range(1, 6))  # the step index
    assert "<ins>" in page and "<del>" in page  # a one-line change as words
    assert "class='add'" in page and "class='del'" in page  # a multi-line change as lines
    assert "Wrong: answered &#x27;I think it is fine&#x27;, expected" in page  # the feedback the optimizer saw
    assert "the answers must be one label word" in page  # the optimizer's reasoning
    assert "rejected proposals" in page and "the instruction must mention the review" in page  # and the reason
    assert "first attempt refused, retried" in page
    assert "<svg class='chart'" in page and "best: step" in page  # the curve with the best step marked
    assert "Label the review" in page  # the final parameters
    summary = re.search(r"<p class='summary' id='summary-line'>(.*?)</p>", page).group(1)
    assert "score before" in summary and "optimizer calls" in summary and "tokens" in summary


def test_report_is_self_contained(run_dir: Path) -> None:
    page = write_report(run_dir).read_text(encoding="utf-8")
    assert "http://" not in page.replace("http://www.w3.org/", "")  # SVG namespaces only
    assert "https://" not in page and "<link" not in page and "src=" not in page


def test_graph_is_drawn_with_graphviz_or_listed_as_a_table(run_dir: Path, monkeypatch) -> None:
    page = write_report(run_dir).read_text(encoding="utf-8")
    if shutil.which("dot"):
        assert "<div class='graph'><svg" in page
    monkeypatch.setattr(shutil, "which", lambda name: None)
    page = write_report(run_dir, run_dir / "no-dot.html").read_text(encoding="utf-8")
    assert "<table class='ot-graph'>" in page and ">instruction<" in page and ">label<" in page


def test_unknown_fields_and_record_kinds_are_shown_not_fatal(run_dir: Path, tmp_path: Path) -> None:
    copy = tmp_path / "run"
    shutil.copytree(run_dir, copy)
    step = json.loads((copy / "steps" / "step_00002.json").read_text())
    step["candidates"] = [{"score": 0.25, "value": "cand A"}, {"score": 0.75, "value": "cand B"}]
    step["kind"] = "search-round"
    (copy / "steps" / "step_00002.json").write_text(json.dumps(step))
    state = json.loads((copy / "state.json").read_text())
    state["budget"] = {"limit_usd": 1.0, "spent_usd": 0.25}
    (copy / "state.json").write_text(json.dumps(state))
    (copy / "steps" / "step_00009.json").write_text("{ torn")
    page = write_report(copy).read_text(encoding="utf-8")
    assert "cand B" in page and "class='best-row'" in page and "search-round" in page
    assert "spent_usd" in page and "step_00009.json" in page  # the unreadable file is named, not fatal


def test_not_a_run_directory_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ReportError, match="not a training run directory"):
        load_run(tmp_path)
    result = CliRunner().invoke(app, ["runs", "report", str(tmp_path / "missing")])
    assert result.exit_code != 0 and "not a directory" in result.output and "Traceback" not in result.output


def test_runs_report_command_names_the_file(run_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    result = CliRunner().invoke(app, ["runs", "report", str(run_dir), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert out.exists() and str(out) in result.output


def test_train_command_writes_the_report(tmp_path: Path) -> None:
    script = tmp_path / "optimizer.jsonl"
    script.write_text(json.dumps({"pattern": ".*", "reply": {"reasoning": "x is 8", "suggestion": {"x": 8}}}) + "\n")
    run = tmp_path / "run"
    result = CliRunner().invoke(app, ["train", "numeric", "--model", f"scripted:{script}", "--steps", "2",
                                      "--run-dir", str(run)])
    assert result.exit_code == 0, result.output
    assert (run / "report.html").exists() and "report: " in result.output
    assert "x is 8" in (run / "report.html").read_text(encoding="utf-8")


def test_after_run_never_fails_a_finished_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    import sys

    from optotrace.cli.run_report import after_run

    empty = tmp_path / "empty"
    empty.mkdir()
    assert after_run(empty) is None
    assert "no report written" in capsys.readouterr().err
    run = tmp_path / "run"
    make_run(run, steps=1)
    monkeypatch.setenv("OPTOTRACE_MLFLOW", "1")
    monkeypatch.setitem(sys.modules, "mlflow", None)  # as if MLflow were not installed
    assert after_run(run) == run / "report.html"
    assert "pip install 'optotrace[mlflow]'" in capsys.readouterr().err


def test_candidates_scored_in_a_step_are_listed_with_the_best_marked(tmp_path: Path) -> None:
    run = tmp_path / "run"
    make_run(run, steps=2, optimizer_options={"num_candidates": 3})
    page = write_report(run).read_text(encoding="utf-8")
    assert "<b>candidates</b><table class='records'>" in page and "class='best-row'" in page
    assert "<th>score</th>" in page
