"""Logging a run to a real local MLflow file store (skipped when the `mlflow` extra is not installed)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from report_support import make_run
from typer.testing import CliRunner

from optotrace.cli import app

mlflow = pytest.importorskip("mlflow", reason="MLflow is not installed (pip install 'optotrace[mlflow]')")


def test_run_logs_params_metrics_report_and_best_params(tmp_path: Path, monkeypatch) -> None:
    from mlflow.tracking import MlflowClient

    from optotrace.reports import write_report
    from optotrace.reports.mlflow_log import log_run

    run_dir = tmp_path / "run"
    make_run(run_dir, steps=3)
    write_report(run_dir)
    store = (tmp_path / "mlruns").as_uri()
    info = log_run(run_dir, tracking_uri=store, experiment="report-test")
    client = MlflowClient(tracking_uri=store)
    logged = client.get_run(info["run_id"])
    assert logged.info.status == "FINISHED"
    assert logged.data.params["config.optimizers"] == json.dumps(["OptoPrime"])
    assert logged.data.params["initial.instruction"] == "Read the review."
    history = client.get_metric_history(info["run_id"], "train_score")
    assert sorted(m.step for m in history) == [1, 2, 3]
    artifacts = {a.path for a in client.list_artifacts(info["run_id"])}
    assert {"report.html", "best_params.json"} <= artifacts


def test_train_command_logs_when_asked(tmp_path: Path, monkeypatch) -> None:
    from mlflow.tracking import MlflowClient

    script = tmp_path / "optimizer.jsonl"
    script.write_text(json.dumps({"pattern": ".*", "reply": {"reasoning": "x is 8", "suggestion": {"x": 8}}}) + "\n")
    store = (tmp_path / "mlruns").as_uri()
    monkeypatch.setenv("MLFLOW_TRACKING_URI", store)
    monkeypatch.setenv("OPTOTRACE_MLFLOW_EXPERIMENT", "cli-test")
    result = CliRunner().invoke(app, ["train", "numeric", "--model", f"scripted:{script}", "--steps", "2",
                                      "--run-dir", str(tmp_path / "run")])
    assert result.exit_code == 0, result.output
    assert "mlflow: logged to experiment 'cli-test'" in result.output
    experiment = MlflowClient(tracking_uri=store).get_experiment_by_name("cli-test")
    runs = MlflowClient(tracking_uri=store).search_runs([experiment.experiment_id])
    assert len(runs) == 1 and "train_score" in runs[0].data.metrics


def test_a_bad_run_dir_is_a_clear_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["runs", "mlflow", str(tmp_path), "--tracking-uri", (tmp_path / "m").as_uri()])
    assert result.exit_code != 0 and "not a training run directory" in result.output
