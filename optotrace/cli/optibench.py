"""`optotrace optibench ...`: eval, report, reference, train."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from optotrace.cli.app import app
from optotrace.cli.errors import fail
from optotrace.cli.paths import existing_input, guard_run_dir, writable_dir

optibench = typer.Typer(help="OptiBench: evaluate agents, report, reproduce the reference answers, train prompts.",
                        no_args_is_help=True)
app.add_typer(optibench, name="optibench")


def _isolation_line() -> str:
    from optotrace.modeling.sandbox.preview import isolation_line

    return isolation_line()


def _problems(data: str | None, answer_field: str | None, question_field: str, limit: int | None) -> list[Any]:
    from optotrace.benchmarks.loaders import load_objective_benchmark, load_optibench

    if answer_field:
        if not data:
            fail("--answer-field needs --data (an objective-only JSON/JSONL file)")
        items = load_objective_benchmark(data, question_field=question_field, answer_field=answer_field)
    else:
        items = load_optibench(data)
    if not list(items):
        source = data or "the benchmark file"
        first = f"; first: {items.issues[0]}" if items.issues else ""
        fail(f"{source} holds no usable problem ({len(items.issues)} records skipped{first}); check or re-download it")
    for issue in items.issues[:20]:
        typer.echo(f"skipped {issue}", err=True)
    if len(items.issues) > 20:
        typer.echo(f"... and {len(items.issues) - 20} more skipped records", err=True)
    if limit is not None and limit < 1:
        fail(f"--limit {limit}: give a positive number of problems")
    return list(items)[:limit] if limit else list(items)


def _check_mode(mode: str) -> None:
    if mode not in ("code", "spec"):
        fail(f"--mode {mode!r}: use 'code' (a Pyomo program run in the sandbox) or 'spec' (a ModelSpec)")


# What the evaluation runner writes (benchmarks/runner/store.py); present means an earlier run.
EVAL_MARKERS = ("records.jsonl",)


def _prepare_eval_dir(run_dir: Path | None, resume: bool, overwrite: bool) -> bool:
    """Check --run-dir; with --overwrite, remove the earlier run's records and metadata. Returns `resume`."""
    if run_dir is None:
        return resume
    guard_run_dir(run_dir, "--run-dir", markers=EVAL_MARKERS, resume=resume and not overwrite, overwrite=overwrite)
    if overwrite:
        from optotrace.benchmarks.runner.store import META, RECORDS

        for name in (RECORDS, META):
            (run_dir / name).unlink(missing_ok=True)
    return resume and not overwrite


def _llm(model: str | None, base_url: str | None, cache: bool) -> Any:
    from optotrace.llm import get_llm

    options: dict[str, Any] = {}
    if base_url:
        options["base_url"] = base_url
    if not cache:
        options["cache"] = False
    return get_llm(model, **options)


def _finish(summary: Any, report: bool = True) -> None:
    if report:
        from optotrace.benchmarks.report import write_report

        paths = write_report(summary.run_dir)
        typer.echo(paths["markdown"].read_text(encoding="utf-8"), err=True)
    typer.echo(json.dumps(summary.line()))


@optibench.command("eval")
def eval_cmd(
    model: str = typer.Option(None, help="LLM spec: local, openai:MODEL, litellm:PROVIDER/MODEL (default OPTOTRACE_MODEL)"),
    mode: str = typer.Option("code", help="code: a Pyomo program run in the sandbox; spec: a ModelSpec solved directly"),
    limit: int = typer.Option(None, help="evaluate the first N problems only"),
    concurrency: int = typer.Option(4, help="problems in flight"),
    executor: str = typer.Option("local", help="local (threads) or ray"),
    ray_address: str = typer.Option(None, help="Ray cluster address (default: a local instance)"),
    run_dir: Path = typer.Option(None, help="run directory (records.jsonl); an existing one is resumed"),
    extract: str = typer.Option("deterministic", help="deterministic or llm (the paper's LLM-based extraction)"),
    extract_model: str = typer.Option(None, help="LLM spec for --extract llm (default: --model)"),
    data: str = typer.Option(None, help="path or URL of the benchmark (default OPTIBENCH_PATH / ../shared)"),
    answer_field: str = typer.Option(None, help="objective-only benchmark: the answer's field name"),
    question_field: str = typer.Option("question", help="objective-only benchmark: the question's field name"),
    attempts: int = typer.Option(3, help="attempts per problem (the repair loop)"),
    params: Path = typer.Option(None, help="trained parameters (best_params.json from `optibench train`)"),
    base_url: str = typer.Option(None, help="base URL of an OpenAI-compatible server"),
    time_limit: float = typer.Option(120.0, help="seconds per program / solve"),
    cache: bool = typer.Option(True, help="use the LLM cache"),
    resume: bool = typer.Option(True, help="skip problems already recorded in --run-dir"),
    overwrite: bool = typer.Option(False, "--overwrite", help="replace an earlier run in --run-dir"),
) -> None:
    """Evaluate the modeler agent on OptiBench (or an objective-only benchmark); prints one JSON line."""
    from optotrace.agents import ModelerAgent
    from optotrace.benchmarks.runner import EvalSettings, evaluate

    resume = _prepare_eval_dir(run_dir, resume, overwrite)
    if params is not None:
        existing_input(params, "--params")
    _check_mode(mode)
    if executor not in ("local", "ray"):
        fail(f"unknown executor {executor!r}; use 'local' or 'ray'")
    problems = _problems(data, answer_field, question_field, limit)
    agent = ModelerAgent(_llm(model, base_url, cache), mode=mode, max_attempts=attempts, time_limit=time_limit,  # type: ignore[arg-type]
                         sandbox_pool=min(concurrency, 4))
    if params:
        agent.load(params)
    if mode == "code":
        typer.echo(_isolation_line(), err=True)
    settings = EvalSettings(time_limit=time_limit, extract=extract, extract_model=extract_model or model,
                            extract_options={"base_url": base_url} if base_url else {})
    try:
        summary = evaluate(agent, problems, concurrency=concurrency, run_dir=run_dir, resume=resume,
                           executor=executor, ray_address=ray_address, settings=settings,  # type: ignore[arg-type]
                           meta={"model": model or "default", "mode": mode, "attempts": attempts})
    finally:
        agent.close()
    _finish(summary)


@optibench.command("report")
def report_cmd(run_dir: Path = typer.Argument(..., help="a run directory written by `optibench eval`")) -> None:
    """Write report.md, report.csv and report.png for a run and print the Markdown table."""
    from optotrace.benchmarks.report import write_report
    from optotrace.benchmarks.runner import load_run
    from optotrace.benchmarks.runner.summary import RunSummary

    existing_input(run_dir, "RUN_DIR", "directory")
    if not (run_dir / "records.jsonl").is_file():
        fail(f"{run_dir} has no records.jsonl: not a run of `optotrace optibench eval` (or nothing finished yet)")
    paths = write_report(run_dir)
    typer.echo(paths["markdown"].read_text(encoding="utf-8"))
    for kind, path in paths.items():
        typer.echo(f"{kind}: {path}", err=True)
    records, meta = load_run(run_dir)
    typer.echo(json.dumps(RunSummary(run_dir=run_dir, total=len(records), records=records).line()))


@optibench.command("reference")
def reference_cmd(
    run_dir: Path = typer.Option(None, help="run directory (default runs/optibench-reference-TIMESTAMP)"),
    concurrency: int = typer.Option(2, help="programs in flight"),
    limit: int = typer.Option(None, help="the first N items only"),
    executor: str = typer.Option("local", help="local or ray"),
    doc: Path = typer.Option(None, help="also write the non-reproducing list to this Markdown file"),
    resume: bool = typer.Option(True, help="skip items already recorded in --run-dir"),
    overwrite: bool = typer.Option(False, "--overwrite", help="replace an earlier run in --run-dir"),
) -> None:
    """Grade OptiBench's 605 reference programs (e-opt.json) through the sandbox and grader."""
    from optotrace.benchmarks.diagnose import markdown_list
    from optotrace.benchmarks.loaders import load_reference
    from optotrace.benchmarks.reference import run_reference
    from optotrace.benchmarks.reference_doc import reference_doc

    resume = _prepare_eval_dir(run_dir, resume, overwrite)
    if limit is not None and limit < 1:
        fail(f"--limit {limit}: give a positive number of items")
    if doc is not None:
        writable_dir(doc.parent, "--doc")

    problems = list(load_reference())
    if not problems:
        fail("e-opt.json holds no usable item; check or re-download it")
    typer.echo(_isolation_line(), err=True)
    summary = run_reference(problems[:limit] if limit else problems, concurrency=concurrency, run_dir=run_dir,
                            resume=resume, executor=executor)
    (summary.run_dir / "non_reproducing.md").write_text(markdown_list(summary.records), encoding="utf-8")
    if doc:
        doc.write_text(reference_doc(summary), encoding="utf-8")
    _finish(summary)


@optibench.command("train")
def train_cmd(
    model: str = typer.Option(None, help="LLM spec of the agent"),
    optimizer_model: str = typer.Option(None, help="LLM spec of OptoPrime (default: --model)"),
    mode: str = typer.Option("code", help="code or spec"),
    train_size: int = typer.Option(8, help="training problems"),
    val_size: int = typer.Option(4, help="validation problems (best step chosen on these)"),
    test_size: int = typer.Option(16, help="held-out problems evaluated after training"),
    epochs: int = typer.Option(1),
    batch_size: int = typer.Option(4),
    concurrency: int = typer.Option(4),
    attempts: int = typer.Option(2, help="attempts per problem"),
    seed: int = typer.Option(0),
    run_dir: Path = typer.Option(None, help="run directory (default runs/optibench-train-TIMESTAMP)"),
    base_url: str = typer.Option(None, help="base URL of an OpenAI-compatible server"),
    data: str = typer.Option(None, help="path or URL of OptiBench.json"),
    overwrite: bool = typer.Option(False, "--overwrite", help="replace an earlier run in --run-dir"),
) -> None:
    """Optimize the agent's prompts with OptoPrime on a training split, evaluate on a held-out split,
    save the best parameters (RUN_DIR/best_params.json); prints one JSON line."""
    from optotrace.agents import ModelerAgent
    from optotrace.agents.modeler.training import split, train_modeler
    from optotrace.benchmarks.runner import evaluate
    from optotrace.benchmarks.runner.evaluate import default_run_dir

    root = run_dir or default_run_dir("optibench-train")
    guard_run_dir(root, "--run-dir", markers=("train", "heldout", "best_params.json"), resume=False,
                  overwrite=overwrite, resumable=False)
    _check_mode(mode)
    for option, value, least in (("--train-size", train_size, 1), ("--val-size", val_size, 0),
                                 ("--test-size", test_size, 1), ("--epochs", epochs, 1),
                                 ("--batch-size", batch_size, 1), ("--concurrency", concurrency, 1),
                                 ("--attempts", attempts, 1)):
        if value < least:
            fail(f"{option} {value}: give at least {least}")
    problems = _problems(data, None, "question", None)
    if train_size + val_size + test_size > len(problems):
        fail(f"--train-size + --val-size + --test-size = {train_size + val_size + test_size}, but the benchmark has "
             f"{len(problems)} usable problems; choose smaller splits")
    parts = split(problems, train_size, val_size, test_size, seed=seed)
    llm = _llm(model, base_url, True)
    opt_llm = _llm(optimizer_model, base_url, True) if optimizer_model else llm
    if mode == "code":
        typer.echo(_isolation_line(), err=True)
    agent = ModelerAgent(llm, mode=mode, max_attempts=attempts, sandbox_pool=min(concurrency, 4))  # type: ignore[arg-type]
    try:
        result, saved = train_modeler(agent, parts.train, parts.val, opt_llm, epochs=epochs, batch_size=batch_size,
                                      concurrency=concurrency, run_dir=Path(root) / "train", seed=seed)
        summary = evaluate(agent, parts.test, concurrency=concurrency, run_dir=Path(root) / "heldout", resume=False,
                           meta={"model": model or "default", "mode": mode, "params": str(saved)})
    finally:
        agent.close()
    line = summary.line()
    line.update({"train_best_score": result.best_score, "train_initial_score": result.initial_score,
                 "best_step": result.best_step, "params": str(saved)})
    from optotrace.benchmarks.report import write_report

    write_report(summary.run_dir)
    typer.echo(json.dumps(line))
    from optotrace.cli.run_report import after_run

    after_run(Path(root) / "train", err=True)
