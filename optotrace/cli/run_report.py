"""What the commands do after a training run returns: write report.html, log to MLflow when asked. A failure
here is a warning: the run itself is finished and saved."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import typer


def after_run(run_dir: Any, err: bool = False) -> Path | None:
    """Write RUN_DIR/report.html and print where it is; log the run to MLflow when OPTOTRACE_MLFLOW or
    MLFLOW_TRACKING_URI is set and mlflow is installed (`err`: print to stderr). Returns the report's path (None if it failed)."""
    from optotrace.reports import ReportError, write_report

    if run_dir is None or not Path(str(run_dir)).is_dir():
        return None
    path: Path | None = None
    try:
        path = write_report(str(run_dir))
        typer.echo(f"report: {path}  (open it in a browser: file://{path.resolve()})", err=err)
    except (ReportError, OSError) as exc:
        typer.echo(f"warning: no report written: {exc}", err=True)
    if mlflow_requested():
        from optotrace.reports.mlflow_log import MlflowUnavailable, log_run

        try:
            info = log_run(str(run_dir))
            typer.echo(f"mlflow: logged to experiment {info['experiment']!r} run {info['run_id']} "
                       f"({info['tracking_uri']})", err=err)
        except MlflowUnavailable as exc:
            typer.echo(f"warning: {exc}", err=True)
        except Exception as exc:  # a tracking server problem must not fail a finished run
            typer.echo(f"warning: could not log the run to MLflow: {type(exc).__name__}: {exc}", err=True)
    return path


def mlflow_requested() -> bool:
    flag = os.environ.get("OPTOTRACE_MLFLOW", "").strip().lower()
    if flag in ("0", "false", "no", "off"):
        return False
    return bool(flag) or bool(os.environ.get("MLFLOW_TRACKING_URI"))
