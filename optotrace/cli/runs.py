"""`optotrace runs show RUN_DIR`: what a training run wrote, as a table."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from optotrace.cli.app import app
from optotrace.cli.errors import fail
from optotrace.cli.paths import existing_input

runs = typer.Typer(help="Inspect training runs written by the Trainer.", no_args_is_help=True)
app.add_typer(runs, name="runs")


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        fail(f"{path} is damaged (not valid JSON: {exc}); restore it or rerun the training")


COLUMNS = (  # (header, history key, priority: lower shows first at narrow widths)
    ("step", "step", 0), ("epoch", "epoch", 11), ("train", "train_score", 1), ("val", "val_score", 2),
    ("best", "best_score", 3), ("kept", "kept", 5), ("applied", "applied", 7), ("rejected", "rejected", 8),
    ("errors", "errors", 9), ("calls", "calls", 6), ("tokens", "tokens", 4), ("cost $", "cost_usd", 10),
    ("s", "seconds", 12), ("best at", "best_step", 13),
)
OPTIONAL = {"kept", "calls"}  # written by a Trainer that scores candidates: shown only where the history has them
SHOWN_WITH = {"candidates": "kept"}  # shown inside another column ("kept" reads kept/candidates)


def _cell(key: str, value: Any, record: dict[str, Any] | None = None) -> str:
    if key == "kept" and record is not None and isinstance(record.get("candidates"), int) and value is not None:
        return f"{value}/{record['candidates']}"
    if key == "cost_usd":
        return f"{value or 0:.4f}"
    if key == "tokens" and isinstance(value, int) and value >= 100_000:
        return f"{value / 1000:.0f}k"
    return _fmt(value)


def choose_columns(history: list[dict[str, Any]], width: int | None) -> list[tuple[str, str]]:
    """The columns that fit in `width` characters (all of them when None), most useful first, shown in
    their usual order; extra numeric fields a newer Trainer writes come last (and only with --wide)."""
    known = {key for _, key, _ in COLUMNS} | set(SHOWN_WITH)
    extra = [k for h in history for k, v in h.items() if k not in known and isinstance(v, (int, float))
             and not isinstance(v, bool)]
    columns = [(head, key, prio) for head, key, prio in COLUMNS
               if key not in OPTIONAL or any(key in h for h in history)]
    columns += [(k, k, 20 + i) for i, k in enumerate(dict.fromkeys(extra))]
    if width is None:
        return [(h, k) for h, k, _ in columns]
    chosen: set[str] = set()
    used = 1  # the table's left border
    for head, key, _ in sorted(columns, key=lambda c: c[2]):
        need = max([len(head)] + [len(_cell(key, h.get(key), h)) for h in history]) + 3
        if key in extra:
            continue
        if used + need > width:
            break  # the most useful columns, in order: a narrow terminal loses the least useful ones
        chosen.add(key)
        used += need
    return [(h, k) for h, k, _ in columns if k in chosen]


def _spent_line(spent: dict[str, Any]) -> str:
    phases = spent.get("by_phase") if isinstance(spent.get("by_phase"), dict) else {}
    parts = [f"{name} {v.get('calls')} calls / {v.get('tokens')} tokens" for name, v in phases.items()
             if isinstance(v, dict)]
    limits = [f"{spent[k]} {name}" for k, name in (("limit_calls", "calls"), ("limit_tokens", "tokens"))
              if spent.get(k) is not None]
    return (f"spent: {spent['calls']} LLM calls, {spent.get('tokens')} tokens"
            f"{' (' + '; '.join(parts) + ')' if parts else ''}; {'limit ' + ', '.join(limits) if limits else 'no limit'}")


@runs.command("show")
def show(
    run_dir: Path = typer.Argument(..., help="a run directory (with state.json)"),
    values: bool = typer.Option(True, "--values/--no-values", help="print the best parameter values"),
    wide: bool = typer.Option(False, "--wide", help="every column, however wide the terminal"),
) -> None:
    """Per-step scores, updates, tokens and cost; the best step and its parameters."""
    from rich.console import Console
    from rich.table import Table

    existing_input(run_dir, "RUN_DIR", "directory")
    state_path = run_dir / "state.json"
    if not state_path.exists():
        fail(f"{run_dir} has no state.json: not a training run directory (or nothing finished)")
    state = _read_json(state_path)
    if not isinstance(state, dict):
        fail(f"{state_path} is not a run state (a JSON object); restore it or rerun the training")
    raw_history = state.get("history")
    history = [h for h in (raw_history if isinstance(raw_history, list) else []) if isinstance(h, dict)]
    console = Console()
    columns = choose_columns(history, None if wide else console.width)
    if wide:
        console = Console(width=max(console.width, 1 + sum(
            max([len(head)] + [len(_cell(key, h.get(key), h)) for h in history]) + 3 for head, key in columns)))
    table = Table(title=f"run {run_dir}", title_justify="left")
    for head, _ in columns:
        table.add_column(head, justify="right", min_width=len(head), no_wrap=True)
    for h in history:
        table.add_row(*(_cell(key, h.get(key), h) for _, key in columns))
    console.print(table)
    hidden = [head for head, _ in choose_columns(history, None) if head not in {c[0] for c in columns}]
    if hidden:
        console.print(f"(not shown at this width: {', '.join(hidden)};")  # rich wraps it at the console's width
        console.print(" --wide shows every column)")
    total_steps = state.get("total_steps")
    done = state.get("step", 0)
    status = "finished" if total_steps is not None and done >= total_steps else f"stopped after step {done}"
    if (run_dir / "summary.json").exists():
        status = "finished"
    if state.get("stopped"):
        status = f"stopped by the {state['stopped']}" if state["stopped"] == "budget" else f"stopped: {state['stopped']}"
    console.print(f"steps: {done}/{total_steps} ({status}); initial val score {_fmt(state.get('initial_val_score'))}; "
                  f"best score {_fmt(state.get('best_score'))} at step {state.get('best_step')}")
    spent = state.get("spent")
    if isinstance(spent, dict) and isinstance(spent.get("calls"), int):
        console.print(_spent_line(spent), highlight=False)
    optimizers = state.get("optimizers")
    rejected = [r for opt in (optimizers if isinstance(optimizers, list) else []) if isinstance(opt, dict)
                for r in (opt.get("rejected") or []) if isinstance(r, dict)]
    if rejected:
        last = rejected[-1]
        console.print(f"rejected suggestions: {len(rejected)}; last: step {last.get('step')}, "
                      f"{last.get('name')}: {last.get('reason')}")
    best_step = state.get("best_step")
    best_file = run_dir / "params" / f"step_{best_step if isinstance(best_step, int) else 0:05d}.json"
    if values and best_file.exists():
        saved = _read_json(best_file)
        params = saved.get("parameters") if isinstance(saved, dict) else None
        params = params if isinstance(params, dict) else {}
        console.print("best parameters:")
        for name, entry in params.items():
            text = entry.get("value") if isinstance(entry, dict) else entry
            text = text if isinstance(text, str) else json.dumps(text)
            console.print(f"  [bold]{name}[/bold] = {text if len(text) < 800 else text[:800] + ' ...'}", markup=True,
                          highlight=False)
    for extra in ("report.html", "metrics.jsonl", "learning_curve.png", "best_params.json"):
        if (run_dir / extra).exists():
            console.print(f"{extra}: {run_dir / extra}")


@runs.command("report")
def report(
    run_dir: Path = typer.Argument(..., help="a run directory written by the Trainer"),
    out: Path = typer.Option(None, "--out", help="where to write the report (default RUN_DIR/report.html)"),
) -> None:
    """Write one self-contained report.html of a run: curve, per-step diffs, feedback, reasoning, graph."""
    from optotrace.reports import write_report

    path = write_report(run_dir, out)  # a ReportError ends as one `error:` line (cli/errors.py)
    typer.echo(f"report: {path}  ({path.stat().st_size // 1024 + 1} KiB; open file://{path.resolve()})")


@runs.command("mlflow")
def mlflow_cmd(
    run_dir: Path = typer.Argument(..., help="a run directory written by the Trainer"),
    tracking_uri: str = typer.Option(None, "--tracking-uri", help="default MLFLOW_TRACKING_URI, else ./mlruns"),
    experiment: str = typer.Option(None, "--experiment", help="default OPTOTRACE_MLFLOW_EXPERIMENT, else optotrace"),
) -> None:
    """Log a finished run to MLflow: params, per-step metrics, report.html and best_params.json."""
    from optotrace.reports.mlflow_log import log_run

    info = log_run(run_dir, tracking_uri=tracking_uri, experiment=experiment)
    typer.echo(f"logged to MLflow experiment {info['experiment']!r}, run {info['run_id']} ({info['tracking_uri']})")
