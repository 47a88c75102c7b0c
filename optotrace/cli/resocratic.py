"""`optotrace resocratic synth|export`: ReSocratic data synthesis from the command line."""

from __future__ import annotations

import shutil
from pathlib import Path

import typer

from optotrace.cli.app import app
from optotrace.cli.errors import fail
from optotrace.cli.paths import existing_input, writable_dir

# What `synth` writes (modeling/resocratic/store.py): --overwrite deletes only a directory that holds these.
SYNTH_MARKERS = ("run.json", "stages", "scenarios.jsonl", "samples.jsonl", "card.md")

resocratic_app = typer.Typer(
    help="ReSocratic synthesis of optimization-modeling training data.", no_args_is_help=True
)
app.add_typer(resocratic_app, name="resocratic")


def _check_numbers(**values: float) -> None:
    """Each option's allowed range, checked before anything is written or any LLM is called."""
    ranges = {
        "n": (1, None), "linear_ratio": (0, 1), "seeds_per_prompt": (1, 3), "max_tokens": (1, None),
        "concurrency": (1, None), "workers": (1, None), "dedup_threshold": (0, 1), "rtol": (0, None),
        "atol": (0, None), "validation_fraction": (0, 1),
    }
    for name, value in values.items():
        low, high = ranges[name]
        if value < low or (high is not None and value > high):
            allowed = f"from {low} to {high}" if high is not None else f"at least {low}"
            fail(f"--{name.replace('_', '-')} {value}: give a value {allowed}")


def _check_eopt(path: Path) -> None:
    import json

    try:
        items = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        fail(f"--eopt {path} is not valid JSON ({exc}); give OptiBench's e-opt.json (a list of items)")
    if not isinstance(items, list):
        fail(f"--eopt {path} holds a JSON {type(items).__name__}, not the list of items of OptiBench's e-opt.json")


@resocratic_app.command()
def synth(
    out: Path = typer.Option(
        ..., "--out", help="Run directory (created; rerun with the same settings to resume)."
    ),
    model: str = typer.Option(
        "local", "--model", help="LLM spec: local, openai:MODEL, litellm:..., scripted:PATH"
    ),
    n: int = typer.Option(10, "--n", help="Number of scenarios to synthesize."),
    linear_ratio: float = typer.Option(0.5, help="Share of linear scenarios (the rest are nonlinear)."),
    seeds_per_prompt: int = typer.Option(2, help="Seed examples shown per synthesis prompt (1-3)."),
    temperature: float = typer.Option(0.7, help="Sampling temperature of scenario synthesis."),
    seed: int = typer.Option(0, help="Random seed of the sampling plan."),
    max_tokens: int = typer.Option(1024, help="Token limit of a synthesized scenario."),
    framework: str = typer.Option("pyomo", help="Solver programs in 'pyomo' or 'pyscipopt'."),
    eopt: Path | None = typer.Option(
        None, help="Also use the scenarios/formulations of OptiBench's e-opt.json as seeds."
    ),
    concurrency: int = typer.Option(8, help="LLM calls in flight."),
    workers: int = typer.Option(2, help="Sandbox processes (and Ray CPUs)."),
    executor: str = typer.Option("local", help="'local' (threads) or 'ray' (Ray tasks for the solves)."),
    ray_address: str | None = typer.Option(None, help="Ray cluster address (default: a local instance)."),
    base_url: str | None = typer.Option(None, help="Base URL of an OpenAI-compatible server (openai:MODEL)."),
    dedup_threshold: float = typer.Option(
        0.7, help="TF-IDF cosine above which a scenario is a near duplicate."
    ),
    rtol: float = typer.Option(1e-4, help="Relative tolerance of the program/formal agreement."),
    atol: float = typer.Option(1e-6, help="Absolute tolerance of the program/formal agreement."),
    validation_fraction: float = typer.Option(0.1, help="Share of scenarios in the validation split."),
    overwrite: bool = typer.Option(False, help="Delete the run directory first instead of resuming it."),
    retry_failed: bool = typer.Option(False, help="On resume, redo the LLM calls that failed last time."),
    progress: bool = typer.Option(True, help="Show a progress bar per stage."),
) -> None:
    """Synthesize scenarios, problems, verified programs and questions into OUT."""
    from optotrace.cli.paths import holds_results
    from optotrace.modeling.resocratic.codegen import FRAMEWORKS
    from optotrace.modeling.resocratic.pipeline import SynthConfig, synthesize_dataset
    from optotrace.modeling.resocratic.synthesize import SynthesisPlan
    from optotrace.modeling.sandbox.preview import isolation_line

    if framework not in FRAMEWORKS:
        fail(f"--framework {framework!r}: use one of {', '.join(FRAMEWORKS)}")
    _check_numbers(n=n, linear_ratio=linear_ratio, seeds_per_prompt=seeds_per_prompt, max_tokens=max_tokens,
                   concurrency=concurrency, workers=workers, dedup_threshold=dedup_threshold, rtol=rtol, atol=atol,
                   validation_fraction=validation_fraction)
    if eopt is not None:
        _check_eopt(existing_input(eopt, "--eopt"))
    writable_dir(out, "--out")
    if overwrite and out.exists():
        if not holds_results(out, SYNTH_MARKERS) and any(out.iterdir()):
            fail(f"--out {out} holds files but no synthesis run; --overwrite deletes only a run written by synth: "
                 "choose another --out")
        shutil.rmtree(out)
    typer.echo(isolation_line(), err=True)
    plan = SynthesisPlan(
        n=n,
        linear_ratio=linear_ratio,
        seeds_per_prompt=seeds_per_prompt,
        temperature=temperature,
        max_tokens=max_tokens,
        seed=seed,
    )
    config = SynthConfig(
        plan=plan,
        framework=framework,
        concurrency=concurrency,
        workers=workers,
        executor=executor,
        ray_address=ray_address,
        dedup_threshold=dedup_threshold,
        rtol=rtol,
        atol=atol,
        validation_fraction=validation_fraction,
        progress=progress,
        retry_failed=retry_failed,
    )
    options = {"base_url": base_url} if base_url else {}
    summary = synthesize_dataset(model, out, config, eopt_path=eopt, **options)
    c = summary.counts
    typer.echo(
        f"{'resumed' if summary.resumed else 'new'} run in {summary.out}: "
        f"{c['scenarios']['kept']}/{c['scenarios']['requested']} scenarios kept, "
        f"{c['problems']['kept']}/{c['problems']['expanded']} problems verified, "
        f"{c['samples']['kept']} samples; see {summary.out / 'card.md'}"
    )


@resocratic_app.command()
def export(
    run_dir: Path = typer.Argument(..., help="A run directory written by `synth`."),
    fmt: str = typer.Option("chat", "--format", help="'chat' ({'messages': [...]}) or 'completion'."),
) -> None:
    """Write the SFT view of a run's samples (train and validation files)."""
    from optotrace.modeling.resocratic.export import FORMATS, export_run

    if fmt not in FORMATS:
        fail(f"--format {fmt!r}: use one of {', '.join(FORMATS)}")
    existing_input(run_dir, "RUN_DIR", "directory")
    paths = export_run(run_dir, fmt)
    for split, path in paths.items():
        lines = sum(1 for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip())
        typer.echo(f"{split}: {path} ({lines} samples)")
