"""`optotrace optibench ...`: eval, report, reference, train."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from optotrace.cli import app

optibench = typer.Typer(help="OptiBench: evaluate agents, report, reproduce the reference answers, train prompts.",
                        no_args_is_help=True)
app.add_typer(optibench, name="optibench")


def _problems(data: str | None, answer_field: str | None, question_field: str, limit: int | None) -> list[Any]:
    from optotrace.benchmarks.errors import DataSourceError
    from optotrace.benchmarks.loaders import load_objective_benchmark, load_optibench

    try:
        if answer_field:
            if not data:
                raise typer.BadParameter("--answer-field needs --data (an objective-only JSON/JSONL file)")
            items = load_objective_benchmark(data, question_field=question_field, answer_field=answer_field)
        else:
            items = load_optibench(data)
    except DataSourceError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    for issue in items.issues:
        typer.echo(f"skipped {issue}", err=True)
    return list(items)[:limit] if limit else list(items)


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
) -> None:
    """Evaluate the modeler agent on OptiBench (or an objective-only benchmark); prints one JSON line."""
    from optotrace.agents import ModelerAgent
    from optotrace.benchmarks.runner import EvalSettings, evaluate

    problems = _problems(data, answer_field, question_field, limit)
    agent = ModelerAgent(_llm(model, base_url, cache), mode=mode, max_attempts=attempts, time_limit=time_limit,  # type: ignore[arg-type]
                         sandbox_pool=min(concurrency, 4))
    if params:
        agent.load(params)
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
) -> None:
    """Grade OptiBench's 605 reference programs (e-opt.json) through the sandbox and grader."""
    from optotrace.benchmarks.diagnose import markdown_list
    from optotrace.benchmarks.errors import DataSourceError
    from optotrace.benchmarks.loaders import load_reference
    from optotrace.benchmarks.reference import run_reference
    from optotrace.benchmarks.reference_doc import reference_doc

    try:
        problems = list(load_reference())
    except DataSourceError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
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
) -> None:
    """Optimize the agent's prompts with OptoPrime on a training split, evaluate on a held-out split,
    save the best parameters (RUN_DIR/best_params.json); prints one JSON line."""
    from optotrace.agents import ModelerAgent
    from optotrace.agents.modeler.training import split, train_modeler
    from optotrace.benchmarks.runner import evaluate
    from optotrace.benchmarks.runner.evaluate import default_run_dir

    root = run_dir or default_run_dir("optibench-train")
    parts = split(_problems(data, None, "question", None), train_size, val_size, test_size, seed=seed)
    llm = _llm(model, base_url, True)
    opt_llm = _llm(optimizer_model, base_url, True) if optimizer_model else llm
    agent = ModelerAgent(llm, mode=mode, max_attempts=attempts, sandbox_pool=min(concurrency, 4))  # type: ignore[arg-type]
    try:
        result, saved = train_modeler(agent, parts.train, parts.val, opt_llm, epochs=epochs, batch_size=batch_size,
                                      concurrency=concurrency, run_dir=Path(root) / "train", seed=seed)
        summary = evaluate(agent, parts.test, concurrency=concurrency, run_dir=Path(root) / "heldout",
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
