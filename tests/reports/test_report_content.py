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


def _step_html(page: str, n: int) -> str:
    """Step n's section, up to the next step's (the last one runs on to the end of the page)."""
    return page.split("<details class='step' id='step-")[n]


def test_report_shows_each_steps_candidates_with_scores_and_the_kept_one(run_dir: Path) -> None:
    page = write_report(run_dir).read_text(encoding="utf-8")
    first, third, fifth = _step_html(page, 1), _step_html(page, 3), _step_html(page, 5)
    # step 1: the one candidate beat the current values on the minibatch (0.5 over 0) and was kept
    assert "<b>candidates</b>" in first and "<td>0.5</td><td>minibatch</td><td class='cand-state'>kept</td>" in first
    assert "kept candidate 1: 0.5 on the minibatch over the current values" in first
    assert "answer in one word (version 1)." in first and "kept 1/1" in first
    # step 3: both attempts broke the constraint, nothing to score
    assert "kept current values: no valid candidate" in third and "kept 0/0" in third
    # step 5: the retry was valid but scored no better than the current values (1 against 1): not kept
    assert "<td class='cand-state'>not kept</td>" in fifth and "(version 7)" in fifth
    assert "kept current values: no candidate scored better (best 1, current 1)" in fifth
    assert "no parameter changed in this step" in fifth and "kept 0/1" in fifth


def test_report_shows_each_steps_llm_calls_and_the_runs_spending(run_dir: Path) -> None:
    page = write_report(run_dir).read_text(encoding="utf-8")
    state = json.loads((run_dir / "state.json").read_text())
    calls = [h["calls"] for h in state["history"]]
    assert calls == [1, 1, 2, 1, 2]  # steps 3 and 5 retried a refused reply
    third = _step_html(page, 3)
    assert "calls 2" in third and "LLM calls in this step: <b>2</b> (proposal 2 calls / " in third
    spending = re.search(r"<p class='spending' id='spending'>(.*?)</p>", page).group(1)
    assert "budget spent: <b>7</b> LLM calls" in spending and "(no limit)" in spending
    assert f"proposal 7 calls / {state['spent']['tokens']:,} tokens" in spending
    assert re.search(r"<p class='stopped' id='stopped'>ran all 5 steps</p>", page)


def test_report_says_when_the_budget_stopped_the_run(tmp_path: Path) -> None:
    run = tmp_path / "run"
    result = make_run(run, steps=5, budget=3)  # steps 1 and 2 take one call each; step 3 needs two
    assert result.stopped == "budget" and result.steps == 2
    page = write_report(run).read_text(encoding="utf-8")
    assert len(re.findall(r"<details class='step' id='step-\d+'>", page)) == 2
    stopped = re.search(r"<p class='stopped' id='stopped'>(.*?)</p>", page).group(1)
    assert stopped.startswith("stopped by the run&#x27;s budget after step 2")
    spending = re.search(r"<p class='spending' id='spending'>(.*?)</p>", page).group(1)
    assert "budget spent: <b>3</b> LLM calls" in spending and "limit 3 calls" in spending
    assert "1 refused request" in spending
    result = CliRunner(env={"COLUMNS": "100"}).invoke(app, ["runs", "show", str(run), "--no-values"])
    assert result.exit_code == 0, result.output
    assert "(stopped by the budget)" in result.output and "spent: 3 LLM calls" in result.output
    assert "limit 3 calls" in result.output


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


def test_candidates_logged_without_the_kept_mark_are_read_from_what_was_applied(run_dir: Path, tmp_path: Path) -> None:
    copy = tmp_path / "run"
    shutil.copytree(run_dir, copy)
    state = json.loads((copy / "state.json").read_text())
    for entry in state["optimizers"][0]["logs"]:  # as the first scoring Trainer logged them
        for cand in entry.get("candidates") or []:
            cand.pop("kept", None)
            cand.pop("values", None)
    (copy / "state.json").write_text(json.dumps(state))
    page = write_report(copy).read_text(encoding="utf-8")
    assert "kept candidate 1: 0.5 on the minibatch" in _step_html(page, 1)
    assert "kept current values: no candidate scored better" in _step_html(page, 5)
