"""The per-problem task the runtime executor maps over problems, locally or as a Ray task."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from optotrace.benchmarks.runner.pipeline import Extractor, run_problem
from optotrace.benchmarks.runner.record import ProblemRecord
from optotrace.benchmarks.runner.settings import EvalSettings
from optotrace.modeling.grading import grade
from optotrace.modeling.problem import Problem

if TYPE_CHECKING:
    from optotrace.modeling.sandbox import LazySandbox


class ProblemTask:
    """`task(problem) -> ProblemRecord`. Picklable: on a Ray worker (no `sandbox`) it uses that process's own
    single-worker sandbox, started on first use."""

    def __init__(self, agent: Callable[[Problem], Any], settings: EvalSettings, extractor: Extractor | None,
                 sandbox: LazySandbox | None = None) -> None:
        self.agent, self.settings, self.extractor, self.sandbox = agent, settings, extractor, sandbox

    def __call__(self, problem: Problem) -> ProblemRecord:
        from optotrace.modeling.sandbox import process_sandbox

        s = self.settings
        sandbox = self.sandbox or process_sandbox(s.time_limit, s.memory_limit, s.output_limit)
        return run_problem(self.agent, problem, sandbox, s, self.extractor)

    def __getstate__(self) -> dict[str, Any]:
        return {"agent": self.agent, "settings": self.settings, "extractor": self.extractor, "sandbox": None}


def failed_record(problem: Problem, exc: BaseException, where: str = "task") -> ProblemRecord:
    """The record of a problem whose task died (a Ray worker crash, an unpicklable agent)."""
    record = ProblemRecord(index=problem.index, type=problem.type, benchmark=problem.benchmark)
    record.errors.append(f"{where} failed: {type(exc).__name__}: {exc}"[:4000])
    record.grade = grade(problem, None, code_ok=False, failure=f"the {where} failed: {type(exc).__name__}")
    return record
