"""What a quality-benchmark task is: fixed train/validation splits, a starting instruction and a metric.

A prompt task's workflow is one LLM call: the trainable instruction as the system message, the example's
input as the user message. `score(example, reply)` grades the reply and says in words what was wrong, so an
optimizer that learns from text has something to learn from.
"""

from __future__ import annotations

import os
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from optotrace.benchmarks.errors import DataSourceError

#: The shared data folder, relative to the repository root (a checkout's sibling `shared/data`).
REPO_ROOT = Path(__file__).resolve().parents[3]
DEFAULT_DATA_DIR = REPO_ROOT.parent / "shared" / "data"

Example = dict[str, Any]
Grader = Callable[[Example, str], tuple[float, str]]


def data_dir(path: str | os.PathLike[str] | None = None) -> Path:
    """The benchmark data folder: `path`, else OPTOTRACE_BENCH_DATA, else ../shared/data beside the repo."""
    chosen = Path(path or os.environ.get("OPTOTRACE_BENCH_DATA") or DEFAULT_DATA_DIR).expanduser()
    if not chosen.is_dir():
        raise DataSourceError(
            f"the benchmark data folder {chosen} does not exist; it holds bbh/ and humaneval/ (see their "
            "SOURCE.md). Put it at ../shared/data beside the checkout, or pass --data-dir / set "
            "OPTOTRACE_BENCH_DATA"
        )
    return chosen


def seeded_split(items: Sequence[Any], n_train: int, n_val: int, seed: int, salt: str) -> tuple[list, list]:
    """Disjoint train and validation lists drawn by a shuffle that depends only on (salt, seed)."""
    if n_train < 1 or n_val < 1:
        raise DataSourceError(f"{salt}: train and validation sizes must be at least 1 (got {n_train}, {n_val})")
    if n_train + n_val > len(items):
        raise DataSourceError(
            f"{salt}: {n_train} train + {n_val} validation examples asked for, but the data has {len(items)}"
        )
    order = list(range(len(items)))
    random.Random(f"{salt}:{seed}").shuffle(order)
    return [items[i] for i in order[:n_train]], [items[i] for i in order[n_train : n_train + n_val]]


@dataclass
class PromptTask:
    """A task whose trainable is one instruction (the system prompt of a single model call)."""

    name: str
    train: list[Example]
    val: list[Example]
    start_instruction: str
    grader: Grader
    objective: str
    answer_format: str
    max_tokens: int = 96
    seed: int = 0
    meta: dict[str, Any] = field(default_factory=dict)

    kind = "prompt"

    def messages(self, instruction: str, example: Example) -> list[dict[str, str]]:
        return [{"role": "system", "content": instruction}, {"role": "user", "content": example["input"]}]

    def score(self, example: Example, reply: str) -> tuple[float, str]:
        """(score in [0, 1], feedback in words); never raises for a bad reply."""
        return self.grader(example, reply if isinstance(reply, str) else str(reply))

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "kind": self.kind, "train": len(self.train), "val": len(self.val),
                "seed": self.seed, "start_instruction": self.start_instruction, "max_tokens": self.max_tokens}
