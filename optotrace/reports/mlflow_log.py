"""Logging a finished run to MLflow (the optional `optotrace[mlflow]` extra): config as params, per-step scores,
tokens and cost as metrics, report.html and best_params.json as artifacts.

Where: `tracking_uri` argument, else MLFLOW_TRACKING_URI, else a local file store `./mlruns`. Experiment:
`experiment` argument, else OPTOTRACE_MLFLOW_EXPERIMENT, else "optotrace".
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from optotrace.reports.run_data import ReportError, load_run

STEP_METRICS = ("train_score", "val_score", "best_score", "applied", "rejected", "errors", "tokens", "cost_usd",
                "seconds")
PARAM_VALUE_CHARS = 500  # MLflow limits a param's value; the full values go in best_params.json


class MlflowUnavailable(ReportError):
    """MLflow is not installed."""


def default_tracking_uri() -> str:
    return os.environ.get("MLFLOW_TRACKING_URI") or Path("mlruns").resolve().as_uri()


def log_run(run_dir: str | Path, *, tracking_uri: str | None = None, experiment: str | None = None,
            run_name: str | None = None) -> dict[str, Any]:
    """Log the run in `run_dir`; {"run_id", "experiment", "tracking_uri"}."""
    try:
        import mlflow
    except ImportError as exc:
        raise MlflowUnavailable("MLflow is not installed; pip install 'optotrace[mlflow]' (or unset "
                                "OPTOTRACE_MLFLOW)") from exc
    from mlflow.tracking import MlflowClient

    run = load_run(run_dir)
    uri = tracking_uri or default_tracking_uri()
    name = experiment or os.environ.get("OPTOTRACE_MLFLOW_EXPERIMENT") or "optotrace"
    if uri.startswith("file:") or "://" not in uri:
        # MLflow 3 asks for an opt-in before using a file store; the local file store is what we want by default
        os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")
    client = MlflowClient(tracking_uri=uri)
    found = client.get_experiment_by_name(name)
    experiment_id = found.experiment_id if found is not None else client.create_experiment(name)
    mlrun = client.create_run(experiment_id, run_name=run_name or Path(run_dir).resolve().name,
                              tags={"optotrace.run_dir": str(Path(run_dir).resolve())})
    run_id = mlrun.info.run_id
    status = "FAILED"
    try:
        params = {f"config.{k}": _param_text(v) for k, v in run.config.items()}
        params.update({f"initial.{k}": _param_text(v) for k, v in run.initial_params.items()})
        for key, value in params.items():
            client.log_param(run_id, key[:250], value)
        metrics = []
        from mlflow.entities import Metric

        for h in run.history:
            step = int(h.get("step", 0))
            for key in STEP_METRICS:
                value = h.get(key)
                if isinstance(value, (int, float)) and not isinstance(value, bool):
                    metrics.append(Metric(key, float(value), 0, step))
        summary = {k: v for k, v in run.summary.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}
        metrics.extend(Metric(f"final.{k}", float(v), 0, 0) for k, v in summary.items())
        for start in range(0, len(metrics), 900):  # MLflow's batch limit is 1000 metrics
            client.log_batch(run_id, metrics=metrics[start:start + 900])
        for artifact in ("report.html", "best_params.json", "summary.json", "learning_curve.png", "metrics.jsonl"):
            path = Path(run_dir) / artifact
            if path.exists():
                client.log_artifact(run_id, str(path))
        status = "FINISHED"
    finally:
        client.set_terminated(run_id, status=status)
    return {"run_id": run_id, "experiment": name, "tracking_uri": uri, "mlflow_version": mlflow.__version__}


def _param_text(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=repr)
    return text if len(text) <= PARAM_VALUE_CHARS else text[: PARAM_VALUE_CHARS - 3] + "..."
