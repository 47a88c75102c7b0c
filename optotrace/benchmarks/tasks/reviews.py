"""The reviews example's data (examples/data/reviews.jsonl): sentiment labels, positive or negative."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from optotrace.benchmarks.errors import DataSourceError
from optotrace.benchmarks.tasks.base import REPO_ROOT, Example, PromptTask

REVIEWS_FILE = REPO_ROOT / "examples" / "data" / "reviews.jsonl"
START_INSTRUCTION = "Read the review."
LABELS = ("positive", "negative")


def load_reviews(path: str | Path | None = None) -> list[Example]:
    path = Path(path or REVIEWS_FILE)
    if not path.is_file():
        raise DataSourceError(f"the reviews data {path} is missing (it ships in examples/data/)")
    rows = []
    for n, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            rows.append({"input": str(row["text"]), "target": str(row["label"])})
        except (ValueError, KeyError, TypeError) as exc:
            raise DataSourceError(f"{path}:{n} is not a review record {{text, label}}: {exc}") from exc
    return rows


def grade_label(example: Example, reply: str) -> tuple[float, str]:
    m = re.search(r"\b(positive|negative)\b", reply.lower())
    want = example["target"]
    if m is None:
        return 0.0, (f"The model answered {reply.strip()[:60]!r} instead of a label; it must answer with exactly "
                     f"one word: positive or negative. The correct label was {want}.")
    if m.group(1) == want:
        return 1.0, "Correct."
    return 0.0, f"Wrong: the model said {m.group(1)} but the review is {want}."


def load_reviews_task(n_train: int = 12, n_val: int = 12, seed: int = 0, path: str | Path | None = None,
                      **_: Any) -> PromptTask:
    """The example's own split: the first `n_train` reviews train, the next `n_val` validate (seed unused)."""
    rows = load_reviews(path)
    if n_train + n_val > len(rows):
        raise DataSourceError(f"reviews: {n_train} + {n_val} examples asked for, the file has {len(rows)}")
    objective = ("Rewrite the instruction so that the model labels every review correctly as positive or "
                 "negative, answering with the label only.")
    return PromptTask("reviews", rows[:n_train], rows[n_train : n_train + n_val], START_INSTRUCTION, grade_label,
                      objective, "positive or negative", 16, seed, {"source": "examples/data/reviews.jsonl"})
