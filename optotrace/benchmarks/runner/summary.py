"""The figures a finished (or resumed) run reports."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from optotrace.benchmarks.runner.record import ProblemRecord


@dataclass
class RunSummary:
    run_dir: Path
    total: int
    records: list[ProblemRecord] = field(default_factory=list)
    wall_s: float = 0.0

    @property
    def correct(self) -> int:
        return sum(r.correct for r in self.records)

    @property
    def accuracy(self) -> float:
        return self.correct / self.total if self.total else 0.0

    def line(self) -> dict[str, Any]:
        """The one JSON line the CLI prints at the end."""
        return {"correct": self.correct, "total": self.total, "accuracy": round(self.accuracy, 4), "run_dir": str(self.run_dir)}


def select(records: Iterable[ProblemRecord], indices: Iterable[int]) -> list[ProblemRecord]:
    wanted = set(indices)
    return sorted((r for r in records if r.index in wanted), key=lambda r: r.index)
