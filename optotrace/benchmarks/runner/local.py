"""The local executor: a thread pool (agents mostly wait on LLMs) sharing one sandbox pool."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Any

from optotrace.benchmarks.problem import Problem
from optotrace.benchmarks.runner.pipeline import Extractor, run_problem
from optotrace.benchmarks.runner.record import ProblemRecord
from optotrace.benchmarks.runner.sandboxes import LazySandbox
from optotrace.benchmarks.runner.settings import EvalSettings


def run_local(
    agent: Callable[[Problem], Any],
    problems: list[Problem],
    concurrency: int,
    settings: EvalSettings,
    extractor: Extractor | None,
) -> Iterator[ProblemRecord]:
    """Yield records as problems finish (in completion order)."""
    pool = max(1, min(concurrency, settings.sandbox_pool or (os.cpu_count() or 2)))
    sandbox = LazySandbox(settings, pool_size=pool)
    try:
        with ThreadPoolExecutor(max_workers=max(1, concurrency), thread_name_prefix="optibench") as ex:
            pending: set[Future[ProblemRecord]] = set()
            queue = iter(problems)
            for problem in queue:
                pending.add(ex.submit(run_problem, agent, problem, sandbox, settings, extractor))
                if len(pending) >= concurrency * 2:
                    break
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for fut in done:
                    yield fut.result()
                    nxt = next(queue, None)
                    if nxt is not None:
                        pending.add(ex.submit(run_problem, agent, nxt, sandbox, settings, extractor))
    finally:
        sandbox.close()
