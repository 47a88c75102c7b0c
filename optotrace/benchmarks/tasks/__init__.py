"""Tasks of the quality benchmark (perf/quality.py): BBH, the reviews example, HumanEval.

    from optotrace.benchmarks.tasks import load_task, PROMPT_TASKS
    task = load_task("object_counting", n_train=20, n_val=40, seed=0)
    score, feedback = task.score(task.val[0], "The answer is 7.")

Loaders and graders only: the workflows and optimizers that use them live in perf/quality_harness/.
"""

from __future__ import annotations

from pathlib import Path

from optotrace.benchmarks.errors import DataSourceError
from optotrace.benchmarks.tasks.base import DEFAULT_DATA_DIR, PromptTask, data_dir, seeded_split
from optotrace.benchmarks.tasks.bbh import BBH_TASKS, load_bbh_examples, load_bbh_task
from optotrace.benchmarks.tasks.humaneval import (
    CodeProblem,
    TestReport,
    load_humaneval,
    run_tests,
    test_program,
)
from optotrace.benchmarks.tasks.reviews import load_reviews, load_reviews_task

PROMPT_TASKS = (*BBH_TASKS, "reviews")
CODE_TASKS = ("humaneval",)

__all__ = [
    "BBH_TASKS",
    "CODE_TASKS",
    "DEFAULT_DATA_DIR",
    "PROMPT_TASKS",
    "CodeProblem",
    "PromptTask",
    "TestReport",
    "data_dir",
    "load_bbh_examples",
    "load_bbh_task",
    "load_humaneval",
    "load_reviews",
    "load_reviews_task",
    "load_task",
    "run_tests",
    "seeded_split",
    "test_program",
]


def load_task(name: str, n_train: int | None = None, n_val: int | None = None, seed: int = 0,
              root: str | Path | None = None) -> PromptTask:
    """A prompt task by name with its fixed split (defaults: BBH 20 train / 40 validation, reviews 12 / 12)."""
    if name == "reviews":
        return load_reviews_task(n_train or 12, n_val or 12, seed)
    if name in BBH_TASKS:
        return load_bbh_task(name, n_train or 20, n_val or 40, seed, root)
    known = ", ".join((*PROMPT_TASKS, *CODE_TASKS))
    if name in CODE_TASKS:
        raise DataSourceError(f"{name} is a code task: load it with load_humaneval()")
    raise DataSourceError(f"unknown task {name!r}; known tasks: {known}")
