"""`optotrace runs show RUN_DIR`: what a training run wrote, as a table."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from optotrace.cli import app

runs = typer.Typer(help="Inspect training runs written by the Trainer.", no_args_is_help=True)
app.add_typer(runs, name="runs")


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


@runs.command("show")
def show(
    run_dir: Path = typer.Argument(..., help="a run directory (with state.json)"),
    values: bool = typer.Option(True, "--values/--no-values", help="print the best parameter values"),
) -> None:
    """Per-step scores, updates, tokens and cost; the best step and its parameters."""
    from rich.console import Console
    from rich.table import Table

    state_path = run_dir / "state.json"
    if not state_path.exists():
        raise typer.BadParameter(f"{run_dir} has no state.json: not a training run directory (or nothing finished)")
    state = json.loads(state_path.read_text())
    console = Console()
    table = Table(title=f"run {run_dir}")
    for col in ("step", "epoch", "train", "val", "best", "applied", "rejected", "errors", "tokens", "cost $", "s"):
        table.add_column(col, justify="right")
    for h in state.get("history", []):
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
    rejected = [r for opt in state.get("optimizers", []) if isinstance(opt, dict) for r in opt.get("rejected", [])]
    if rejected:
        console.print(f"rejected suggestions: {len(rejected)}; last: step {rejected[-1]['step']}, "
                      f"{rejected[-1]['name']}: {rejected[-1]['reason']}")
    best_file = run_dir / "params" / f"step_{int(state.get('best_step') or 0):05d}.json"
    if values and best_file.exists():
        params = json.loads(best_file.read_text()).get("parameters", {})
        console.print("best parameters:")
        for name, entry in params.items():
            text = entry.get("value") if isinstance(entry, dict) else entry
            text = text if isinstance(text, str) else json.dumps(text)
            console.print(f"  [bold]{name}[/bold] = {text if len(text) < 800 else text[:800] + ' ...'}", markup=True,
                          highlight=False)
    for extra in ("metrics.jsonl", "learning_curve.png", "best_params.json"):
        if (run_dir / extra).exists():
            console.print(f"{extra}: {run_dir / extra}")
