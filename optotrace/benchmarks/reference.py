"""The reference run: OptiBench's own reference programs (e-opt.json) through the same sandbox and grader."""

from __future__ import annotations

import os
from collections.abc import Iterable

from optotrace.benchmarks.errors import BenchmarkError
from optotrace.benchmarks.loaders import load_reference
from optotrace.benchmarks.runner.evaluate import default_run_dir, evaluate
from optotrace.benchmarks.runner.settings import EvalSettings
from optotrace.benchmarks.runner.summary import RunSummary
from optotrace.modeling.problem import Problem


def reference_program(problem: Problem) -> str:
    """The agent that answers with the item's reference program."""
    if not problem.code:
        raise BenchmarkError(f"problem {problem.index} has no reference program; load e-opt.json (load_reference())")
    return problem.code


def run_reference(
    problems: Iterable[Problem] | None = None,
    concurrency: int = 2,
    run_dir: str | os.PathLike[str] | None = None,
    resume: bool = True,
    executor: str = "local",
    settings: EvalSettings | None = None,
    progress: bool = True,
) -> RunSummary:
    """Grade the reference programs (all 605 by default)."""
    items = list(problems) if problems is not None else list(load_reference())
    settings = settings or EvalSettings(sandbox_pool=concurrency)
    return evaluate(
        reference_program,
        items,
        concurrency=concurrency,
        run_dir=run_dir or default_run_dir("optibench-reference"),
        resume=resume,
        executor=executor,  # type: ignore[arg-type]
        settings=settings,
        progress=progress,
        meta={"agent": "reference programs (e-opt.json)", "model": "reference", "mode": "code"},
    )
