"""`optotrace train EXAMPLE`: run one of the optimization examples (or any script with the same `main`)."""

from __future__ import annotations

import importlib.util
import inspect
from pathlib import Path
from types import ModuleType
from typing import Any

import typer

from optotrace.cli.app import app
from optotrace.cli.errors import fail
from optotrace.cli.paths import guard_run_dir

EXAMPLES = {
    "prompt": "prompt_optimization.py",
    "code": "code_optimization.py",
    "numeric": "numeric_from_feedback.py",
}


def _examples_dirs() -> list[Path]:
    import optotrace

    return [Path.cwd() / "examples", Path(optotrace.__file__).resolve().parents[1] / "examples"]


def find_example(name: str) -> Path:
    """An example by short name (prompt, code, numeric), file name, or path."""
    as_path = Path(name)
    if as_path.suffix == ".py" and as_path.exists():
        return as_path
    file = EXAMPLES.get(name, name if name.endswith(".py") else f"{name}.py")
    for folder in _examples_dirs():
        if (folder / file).exists():
            return folder / file
    fail(f"no example {name!r}; use one of {', '.join(EXAMPLES)} or a path to a script defining main(model=, "
         "steps=, run_dir=)")


def load_example(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"optotrace_example_{path.stem}", path)
    if spec is None or spec.loader is None:
        fail(f"cannot import {path}: give a Python script (.py)")
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except SyntaxError as exc:
        fail(f"{path} does not compile (line {exc.lineno}: {exc.msg}); fix the script")
    if not callable(getattr(module, "main", None)):
        fail(f"{path} has no main(model=, steps=, run_dir=) function")
    return module


# What a Trainer writes in its run directory (optotrace.optimizers.train.run_files): its presence means an earlier run.
RUN_MARKERS = ("state.json", "config.json", "steps", "params", "metrics.jsonl", "summary.json")


def default_run_dir(name: str) -> str:
    return f"runs/{find_example(name).stem}"


def run_example(name: str, model: str | None, steps: int | None, run_dir: str | None, base_url: str | None = None,
                resume: bool = False, overwrite: bool = False, resumable: bool = True,
                optimizer_model: str | None = None) -> dict[str, Any]:
    path = find_example(name)
    if steps is not None and steps < 1:
        fail(f"--steps {steps}: give a positive number of steps")
    target = run_dir or f"runs/{path.stem}"
    guard_run_dir(target, "--run-dir", markers=RUN_MARKERS, resume=resume, overwrite=overwrite,
                  resumable=resumable)
    module = load_example(path)
    kwargs: dict[str, Any] = {"model": model, "steps": steps, "run_dir": target}
    if base_url:
        from optotrace.llm import get_llm

        kwargs["llm"] = get_llm(model, base_url=base_url)
    if optimizer_model:  # the optimizer's own model; the workflow keeps `model`
        from optotrace.llm import get_llm

        workflow_llm = kwargs.get("llm") or get_llm(model)
        kwargs["llm"] = get_llm(optimizer_model)
        if "agent_llm" in inspect.signature(module.main).parameters:
            kwargs["agent_llm"] = workflow_llm
    if resume:
        kwargs["resume"] = True
    return module.main(**kwargs)


@app.command()
def train(
    example: str = typer.Argument(..., help="prompt, code, numeric, or a path to an example script"),
    model: str = typer.Option(None, "--model", "-m", help="LLM spec: local (default), openai:MODEL, litellm:..."),
    steps: int = typer.Option(None, "--steps", help="optimization steps (the example's default otherwise)"),
    run_dir: str = typer.Option(None, "--run-dir", help="where the run is written (default runs/EXAMPLE)"),
    base_url: str = typer.Option(None, "--base-url", help="an OpenAI-compatible endpoint for openai:MODEL"),
    resume: bool = typer.Option(False, "--resume", help="continue the run in --run-dir from its last step"),
    overwrite: bool = typer.Option(False, "--overwrite", help="replace an earlier run in --run-dir"),
    optimizer_model: str = typer.Option(None, "--optimizer-model", help="the optimizer's LLM spec, e.g. "
                                        "local:qwen1.5b (default: --model)"),
) -> None:
    """Optimize an example's parameters and print the scores before and after. An earlier run in --run-dir is
    continued with --resume or replaced with --overwrite; without either the command refuses to touch it."""
    out = run_example(example, model, steps, run_dir, base_url, resume, overwrite, optimizer_model=optimizer_model)
    before, after = out.get("before"), out.get("after")
    fmt = (lambda v: "n/a" if v is None else f"{v:.3f}")  # noqa: E731
    typer.echo(f"{out.get('example', example)}: score before {fmt(before)}, after {fmt(after)} "
               f"({out.get('steps')} steps)")
    typer.echo(f"run written to {out.get('run_dir')}  (see: optotrace runs show {out.get('run_dir')})")
    from optotrace.cli.run_report import after_run

    after_run(out.get("run_dir"))
