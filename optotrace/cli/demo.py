"""`optotrace demo`: the README's main job. Optimizes the prompt example's instruction with the embedded
model and prints the validation accuracy before and after, and where the run was written."""

from __future__ import annotations

import time
from pathlib import Path

import typer

from optotrace.cli import app


@app.command()
def demo(
    model: str = typer.Option("local", "--model", "-m", help="LLM spec (default: the embedded model)"),
    steps: int = typer.Option(None, "--steps", help="optimization steps (default: the example's)"),
    run_dir: str = typer.Option("runs/demo", "--run-dir", help="where the run is written"),
    optimizer_model: str = typer.Option(None, "--optimizer-model", help="the optimizer's LLM spec, e.g. "
                                        "local:qwen1.5b (default: --model)"),
) -> None:
    """Run the prompt-optimization example and print the before and after scores."""
    from optotrace.cli.train import run_example

    who = f"{model}, optimizer {optimizer_model}" if optimizer_model else model
    typer.echo(f"optimizing the review classifier's instruction with {who} ...")
    t0 = time.perf_counter()
    out = run_example("prompt", model, steps, run_dir, optimizer_model=optimizer_model)
    typer.echo(f"validation accuracy before: {out['before']:.0%}")
    typer.echo(f"validation accuracy after:  {out['after']:.0%}")
    typer.echo(f"best instruction: {out['instruction']!r}")
    curve = Path(out["run_dir"]) / "learning_curve.png"
    if curve.exists():
        typer.echo(f"learning curve: {curve}")
    typer.echo(f"run written to {out['run_dir']} in {time.perf_counter() - t0:.0f} s  "
               f"(see: optotrace runs show {out['run_dir']})")
