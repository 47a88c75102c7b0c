"""`optotrace demo`: the README's main job. Optimizes the prompt example's instruction with the embedded
model and prints the validation accuracy before and after, and where the run was written."""

from __future__ import annotations

import typer

from optotrace.cli import app


@app.command()
def demo(
    model: str = typer.Option("local", "--model", "-m", help="LLM spec (default: the embedded model)"),
    steps: int = typer.Option(None, "--steps", help="optimization steps (default: the example's)"),
    run_dir: str = typer.Option("runs/demo", "--run-dir", help="where the run is written"),
) -> None:
    """Run the prompt-optimization example and print the before and after scores."""
    from optotrace.cli.train import run_example

    typer.echo(f"optimizing the review classifier's instruction with {model} ...")
    out = run_example("prompt", model, steps, run_dir)
    typer.echo(f"validation accuracy before: {out['before']:.0%}")
    typer.echo(f"validation accuracy after:  {out['after']:.0%}")
    typer.echo(f"best instruction: {out['instruction']!r}")
    typer.echo(f"run written to {out['run_dir']}  (see: optotrace runs show {out['run_dir']})")
    from optotrace.cli.run_report import after_run

    after_run(out["run_dir"])
