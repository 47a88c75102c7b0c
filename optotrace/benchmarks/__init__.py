"""optotrace.benchmarks: OptiBench loading, grading, the evaluation runner (local pool or Ray), reports.

    from optotrace.benchmarks import load_optibench, evaluate, write_report
    summary = evaluate(agent, load_optibench()[:20], concurrency=8, run_dir="runs/x")
    write_report(summary.run_dir)

Imports neither `agents` nor `optimizers`: any callable problem -> program / ModelSpec / AgentResult is graded.
Ray, matplotlib and the solvers load only when used.
"""

from optotrace.benchmarks.answer import AgentResult
from optotrace.benchmarks.errors import BenchmarkError, DataSourceError
from optotrace.benchmarks.grading import Grade, extract_values, grade
from optotrace.benchmarks.loaders import load_objective_benchmark, load_optibench, load_reference
from optotrace.benchmarks.problem import Dataset, OptiBenchProblem, Problem, RecordIssue
from optotrace.benchmarks.reference import reference_program, run_reference
from optotrace.benchmarks.report import write_report
from optotrace.benchmarks.runner import EvalSettings, ProblemRecord, RunSummary, evaluate, load_run

__all__ = [
    "AgentResult",
    "BenchmarkError",
    "DataSourceError",
    "Dataset",
    "EvalSettings",
    "Grade",
    "OptiBenchProblem",
    "Problem",
    "ProblemRecord",
    "RecordIssue",
    "RunSummary",
    "evaluate",
    "extract_values",
    "grade",
    "load_objective_benchmark",
    "load_optibench",
    "load_reference",
    "load_run",
    "reference_program",
    "run_reference",
    "write_report",
]
