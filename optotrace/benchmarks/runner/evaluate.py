"""evaluate(agent, problems, ...): run an agent over benchmark problems, grading and recording each one."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal

from optotrace.benchmarks.errors import BenchmarkError
from optotrace.benchmarks.runner.pipeline import Extractor
from optotrace.benchmarks.runner.record import ProblemRecord
from optotrace.benchmarks.runner.settings import EvalSettings
from optotrace.benchmarks.runner.store import RunStore
from optotrace.benchmarks.runner.summary import RunSummary, select
from optotrace.benchmarks.runner.tasks import ProblemTask, failed_record
from optotrace.modeling.problem import Problem
from optotrace.runtime import Executor, Progress


def default_run_dir(prefix: str = "optibench") -> Path:
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S-%f")
    return Path(os.environ.get("OPTOTRACE_RUNS", "runs")) / f"{prefix}-{stamp}"


def make_extractor(settings: EvalSettings) -> Extractor | None:
    if settings.extract in ("deterministic", "det", "", None):
        return None
    if settings.extract == "llm":
        from optotrace.benchmarks.grading.llm_extract import LLMExtractor

        return LLMExtractor(settings.extract_model, **settings.extract_options)
    raise BenchmarkError(f"unknown extract={settings.extract!r}; use 'deterministic' or 'llm'")


def evaluate(
    agent: Callable[[Problem], Any],
    problems: Iterable[Problem],
    concurrency: int = 4,
    run_dir: str | os.PathLike[str] | None = None,
    resume: bool = True,
    executor: Literal["local", "ray"] = "local",
    ray_address: str | None = None,
    settings: EvalSettings | None = None,
    extractor: Extractor | None = None,
    progress: bool = True,
    meta: dict[str, Any] | None = None,
) -> RunSummary:
    """Evaluate `agent` (problem -> program source, ModelSpec or AgentResult) on `problems`.

    Each finished problem's record is appended to `run_dir/records.jsonl` and fsynced at once; with
    `resume`, problems already recorded there are skipped (a torn last line from a killed run is cut).
    A crash in one problem is that problem's recorded failure. `executor="ray"` runs problems as Ray tasks
    (`ray_address` for a cluster; a local instance otherwise)."""
    problems = list(problems)
    if concurrency < 1:
        raise BenchmarkError(f"concurrency must be at least 1, got {concurrency}")
    if executor not in ("local", "ray"):
        raise BenchmarkError(f"unknown executor {executor!r}; use 'local' or 'ray'")
    settings = settings or EvalSettings()
    extractor = extractor if extractor is not None else make_extractor(settings)
    store = RunStore(run_dir or default_run_dir())
    if resume:
        store.repair()
    else:
        store.reset()
    wanted = {p.index for p in problems}
    finished = select(store.load(), wanted)
    done = {r.index for r in finished}
    todo = [p for p in problems if p.index not in done]
    store.write_meta({
        **store.read_meta(),
        **(meta or {}),
        "executor": executor,
        "concurrency": concurrency,
        "extract": settings.extract,
        "problems": len(problems),
        "updated": datetime.now(timezone.utc).isoformat(),
    })
    start = time.monotonic()
    correct = sum(r.correct for r in finished)
    with Progress(progress) as display:
        bar = display.bar("OptiBench", len(problems), len(finished), _accuracy(correct, len(finished)))
        for n, record in enumerate(_records(agent, todo, concurrency, settings, extractor, executor, ray_address),
                                   start=len(finished) + 1):
            store.append(record)
            correct += record.correct
            bar.advance(1, status=_accuracy(correct, n))
    return RunSummary(run_dir=store.dir, total=len(problems), records=select(store.load(), wanted), wall_s=time.monotonic() - start)


def _records(
    agent: Callable[[Problem], Any],
    todo: list[Problem],
    concurrency: int,
    settings: EvalSettings,
    extractor: Extractor | None,
    executor: str,
    ray_address: str | None,
) -> Iterator[ProblemRecord]:
    """Records as problems finish (completion order, so each is written at once)."""
    if executor == "ray":
        runner = Executor("ray", workers=concurrency, max_in_flight=concurrency, address=ray_address,
                          cpus_per_task=0.5, shutdown_ray=False)
        task = ProblemTask(agent, settings, extractor)
        sandbox = None
    else:
        from optotrace.modeling.sandbox import LazySandbox

        runner = Executor("threads", workers=concurrency, max_in_flight=2 * concurrency, name="optibench")
        pool = max(1, min(concurrency, settings.sandbox_pool or (os.cpu_count() or 2)))
        sandbox = LazySandbox(settings.time_limit, settings.memory_limit, settings.output_limit, pool_size=pool)
        task = ProblemTask(agent, settings, extractor, sandbox)
    try:
        for out in runner.map(task, todo, ordered=False):
            yield out.value if out.error is None else failed_record(out.item, out.error, f"{executor} task")
    finally:
        runner.close()
        if sandbox is not None:
            sandbox.close()


def _accuracy(correct: int, done: int) -> str:
    return f"acc {correct / done if done else 0.0:6.1%} ({correct}/{done})"


def load_run(run_dir: str | os.PathLike[str]) -> tuple[list[ProblemRecord], dict[str, Any]]:
    """The records and meta of a run directory."""
    path = Path(run_dir)
    if not (path / "records.jsonl").exists():
        raise BenchmarkError(f"{path} holds no records.jsonl; pass the run directory that `optibench eval` printed")
    store = RunStore(path)
    return sorted(store.load(), key=lambda r: r.index), store.read_meta()
