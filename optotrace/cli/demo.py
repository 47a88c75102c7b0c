"""`optotrace demo`: the README's main job. Optimizes the prompt example's instruction and few-shot examples
with `optimize()` (the default strategy) on the embedded model, and prints the validation accuracy before and
after, the instruction kept, the strategy, the budget spent, and where the run was written."""

from __future__ import annotations

import time
from pathlib import Path

import typer

from optotrace.cli.app import app

DEFAULT_RUN_DIR = "runs/demo"


def fresh_run_dir(base: str) -> str:
    """`base`, or base-2, base-3, ... : the first that holds no earlier run (an earlier demo is kept)."""
    from optotrace.cli.paths import holds_results
    from optotrace.cli.train import RUN_MARKERS

    candidate, n = base, 1
    while holds_results(Path(candidate), RUN_MARKERS) or (Path(candidate).exists() and not Path(candidate).is_dir()):
        n += 1
        candidate = f"{base}-{n}"
    return candidate


@app.command()
def demo(
    model: str = typer.Option("local", "--model", "-m", help="LLM spec (default: the embedded model)"),
    steps: int = typer.Option(None, "--steps", help="optimization steps (default: the example's)"),
    run_dir: str = typer.Option(None, "--run-dir",
                                help=f"where the run is written (default {DEFAULT_RUN_DIR}, or {DEFAULT_RUN_DIR}-2, "
                                     "... when an earlier demo is there)"),
    overwrite: bool = typer.Option(False, "--overwrite", help="replace an earlier run in --run-dir"),
    optimizer_model: str = typer.Option(None, "--optimizer-model", help="the optimizer's LLM spec, e.g. "
                                        "local:qwen1.5b (default: --model)"),
) -> None:
    """Run the prompt-optimization example and print the before and after scores."""
    from optotrace.cli.train import run_example

    target = run_dir or fresh_run_dir(DEFAULT_RUN_DIR)
    who = f"{model}, optimizer {optimizer_model}" if optimizer_model else model
    typer.echo(f"optimizing the review classifier's prompt with {who} ...")
    t0 = time.perf_counter()
    out = run_example("prompt", model, steps, target, overwrite=overwrite, resumable=False,
                      optimizer_model=optimizer_model)
    spent = out.get("spent") or {}
    typer.echo(f"strategy: {out.get('strategy')} ({out.get('picked')})")
    typer.echo(f"budget spent: {spent.get('calls', 0)} of {spent.get('limit_calls')} calls, "
               f"{spent.get('tokens', 0):,} tokens")
    typer.echo(f"validation accuracy before: {out['before']:.0%}")
    typer.echo(f"validation accuracy after:  {out['after']:.0%}")
    typer.echo(f"instruction: {out['instruction']!r} (with {out.get('demos', 0)} examples)")
    curve = Path(out["run_dir"]) / "learning_curve.png"
    if curve.exists():
        typer.echo(f"learning curve: {curve}")
    typer.echo(f"run written to {out['run_dir']} in {time.perf_counter() - t0:.0f} s  "
               f"(see: optotrace runs show {out['run_dir']})")
    from optotrace.cli.run_report import after_run

    after_run(out["run_dir"])
