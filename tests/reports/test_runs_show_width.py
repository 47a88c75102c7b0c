"""`runs show` fits 80 columns with whole headers; --wide shows every column; integer step ticks on plots."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from report_support import make_run
from typer.testing import CliRunner

from optotrace.cli import app
from optotrace.reports.svg_chart import integer_ticks, line_chart


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("show") / "run"
    make_run(root, steps=3)
    return root


def _header(output: str) -> list[str]:
    line = next(line for line in output.splitlines() if "step" in line and "┃" in line)
    return [cell.strip() for cell in line.strip("┃ \n").split("┃")]


def test_show_fits_80_columns_with_whole_headers(run_dir: Path) -> None:
    result = CliRunner(env={"COLUMNS": "80"}).invoke(app, ["runs", "show", str(run_dir), "--no-values"])
    assert result.exit_code == 0, result.output
    table = [line for line in result.output.splitlines() if line[:1] in "┏┃┡│└"]
    assert table and all(len(line) <= 80 for line in table)
    headers = _header(result.output)
    assert headers[:4] == ["step", "train", "val", "best"] and "tokens" in headers
    assert "…" not in result.output
    assert "--wide shows every column" in result.output
    # the candidate scoring's columns fit at 80 by priority: kept (kept/candidates) and the step's LLM calls
    assert "kept" in headers and "calls" in headers
    state = json.loads((run_dir / "state.json").read_text())
    rows = [[c.strip() for c in line.strip("│ ").split("│")] for line in table if line.startswith("│")]
    kept = [row[headers.index("kept")] for row in rows]
    assert kept == [f"{h['kept']}/{h['candidates']}" for h in state["history"]]
    assert [row[headers.index("calls")] for row in rows] == [str(h["calls"]) for h in state["history"]]
    assert re.search(r"spent: \d+ LLM calls, \d+ tokens \(proposal \d+ calls / \d+ tokens\); no limit", result.output)


def test_show_no_line_exceeds_80_columns(run_dir: Path) -> None:
    result = CliRunner(env={"COLUMNS": "80"}).invoke(app, ["runs", "show", str(run_dir)])
    assert result.exit_code == 0, result.output
    assert max(len(line) for line in result.output.splitlines()) <= 80
    assert "not shown at this width" in result.output


def test_show_leaves_out_kept_and_calls_for_a_history_without_them(run_dir: Path, tmp_path: Path) -> None:
    state = json.loads((run_dir / "state.json").read_text())
    for h in state["history"]:  # as an older Trainer wrote it
        for key in ("candidates", "kept", "calls", "calls_by_phase"):
            h.pop(key, None)
    state.pop("spent", None)
    copy = tmp_path / "old"
    copy.mkdir()
    (copy / "state.json").write_text(json.dumps(state))
    result = CliRunner(env={"COLUMNS": "80"}).invoke(app, ["runs", "show", str(copy), "--wide"])
    assert result.exit_code == 0, result.output
    headers = _header(result.output)
    assert "kept" not in headers and "calls" not in headers and "candidates" not in headers
    assert {"applied", "rejected", "tokens"} <= set(headers) and "spent:" not in result.output


def test_show_narrow_keeps_the_key_columns(run_dir: Path) -> None:
    result = CliRunner(env={"COLUMNS": "40"}).invoke(app, ["runs", "show", str(run_dir), "--no-values"])
    assert result.exit_code == 0, result.output
    assert _header(result.output)[:3] == ["step", "train", "val"] and "…" not in result.output


def test_wide_shows_every_column_and_new_numeric_fields(run_dir: Path, tmp_path: Path) -> None:
    state = json.loads((run_dir / "state.json").read_text())
    for h in state["history"]:
        h["spent_usd"] = 0.5
    copy = tmp_path / "run"
    copy.mkdir()
    (copy / "state.json").write_text(json.dumps(state))
    result = CliRunner(env={"COLUMNS": "80"}).invoke(app, ["runs", "show", str(copy), "--wide"])
    assert result.exit_code == 0, result.output
    headers = _header(result.output)
    assert {"epoch", "applied", "rejected", "errors", "cost $", "s", "best at", "spent_usd"} <= set(headers)
    assert "…" not in result.output


def test_learning_curve_has_integer_step_ticks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    from optotrace.optimizers.train.run_files import plot_learning_curve

    made = []
    real = plt.subplots

    def spy(*args, **kwargs):
        fig, ax = real(*args, **kwargs)
        made.append(ax)
        return fig, ax

    monkeypatch.setattr(plt, "subplots", spy)
    history = [{"step": s, "train_score": 0.1 * s, "val_score": 0.2 * s} for s in (1, 2, 3)]
    plot_learning_curve(history, tmp_path / "curve.png", {"val_score": 0.0})
    ticks = [t for t in made[0].get_xticks() if 0 <= t <= 3]
    assert ticks and all(float(t).is_integer() for t in ticks)


def test_report_chart_ticks_are_integers() -> None:
    assert integer_ticks(0, 3) == [0, 1, 2, 3]
    assert integer_ticks(0, 200) == list(range(0, 201, 20))
    svg = line_chart([("train", "#000", [(1, 0.5), (2, 0.7), (3, 0.6)])])
    labels = re.findall(r"text-anchor='middle'>([^<]+)</text>", svg)
    assert [x for x in labels if x != "step"] == ["1", "2", "3"]
