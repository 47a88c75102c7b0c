"""Score an instruction on a task's validation set with the task's workflow, through the proxy."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from optotrace.benchmarks.tasks import PromptTask


def score_instruction(task: PromptTask, instruction: str, llm: Any, examples: list[dict[str, Any]] | None = None,
                      concurrency: int = 2) -> tuple[float, list[float]]:
    """(mean score, per-example scores). A failed call scores 0 (and the run goes on)."""
    examples = task.val if examples is None else examples

    def one(ex: dict[str, Any]) -> float:
        try:
            reply = llm.complete(task.messages(instruction, ex), max_tokens=task.max_tokens).text
        except Exception:
            return 0.0
        return task.score(ex, reply)[0]

    with ThreadPoolExecutor(max(1, concurrency)) as pool:
        scores = list(pool.map(one, examples))
    return (sum(scores) / len(scores) if scores else 0.0), scores
