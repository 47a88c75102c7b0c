"""The evaluation runner: local thread pool or Ray tasks, a resumable JSONL record, a progress bar."""

from optotrace.benchmarks.runner.evaluate import evaluate, load_run
from optotrace.benchmarks.runner.record import ProblemRecord
from optotrace.benchmarks.runner.settings import EvalSettings
from optotrace.benchmarks.runner.store import RunStore
from optotrace.benchmarks.runner.summary import RunSummary

__all__ = ["EvalSettings", "ProblemRecord", "RunStore", "RunSummary", "evaluate", "load_run"]
