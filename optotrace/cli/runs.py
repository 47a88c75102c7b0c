"""`optotrace runs show RUN_DIR`: what a training run wrote, as a table."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from optotrace.cli import app
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


@runs.command("show")
def show(
    run_dir: Path = typer.Argument(..., help="a run directory (with state.json)"),
    values: bool = typer.Option(True, "--values/--no-values", help="print the best parameter values"),
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
    console = Console()
    table = Table(title=f"run {run_dir}")
    for col in ("step", "epoch", "train", "val", "best", "applied", "rejected", "errors", "tokens", "cost $", "s"):
        table.add_column(col, justify="right")
    history = state.get("history")
    for h in (h for h in (history if isinstance(history, list) else []) if isinstance(h, dict)):
        table.add_row(*(_fmt(h.get(k)) for k in ("step", "epoch", "train_score", "val_score", "best_score",
                                                 "applied", "rejected", "errors", "tokens")),
                      f"{h.get('cost_usd') or 0:.4f}", _fmt(h.get("seconds")))
    console.print(table)
    total_steps = state.get("total_steps")
    done = state.get("step", 0)
    status = "finished" if total_steps is not None and done >= total_steps else f"stopped after step {done}"
    if (run_dir / "summary.json").exists():
        status = "finished"
    console.print(f"steps: {done}/{total_steps} ({status}); initial val score {_fmt(state.get('initial_val_score'))}; "
                  f"best score {_fmt(state.get('best_score'))} at step {state.get('best_step')}")
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
    for extra in ("metrics.jsonl", "learning_curve.png", "best_params.json"):
        if (run_dir / extra).exists():
            console.print(f"{extra}: {run_dir / extra}")
