"""`OptimizeResult`: what every driver returns, whichever strategy ran.

    result = ot.optimize(program, trainset, valset=valset, metric=metric, budget=100)
    result.initial_score, result.best_score      # mean validation score before, and of the values kept
    result.best_values                           # {parameter name: value}, left in place in the parameters
    result.spent                                 # calls, tokens and cost, in all and by phase
    result.stopped, result.seconds, result.run_dir, result.history
    result.details                               # what only this strategy has (the population, the race...)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from optotrace.optimizers.train.result_display import ResultDisplay

__all__ = ["OptimizeResult"]


@dataclass
class OptimizeResult(ResultDisplay):
    strategy: str
    initial_score: float | None
    best_score: float | None
    best_values: dict[str, Any] = field(default_factory=dict)
    history: list[dict[str, Any]] = field(default_factory=list)  # one record per step / iteration / race round
    spent: dict[str, Any] = field(default_factory=dict)  # RunBudget.report(): calls, tokens, cost, by phase
    stopped: str | None = None  # "budget", "target", "iterations", "perfect", ... or None: it ran its course
    seconds: float = 0.0
    run_dir: Path | None = None
    final_score: float | None = None  # the last step's score (step-by-step training; else the best score)
    best_step: int = 0
    steps: int = 0
    details: dict[str, Any] = field(default_factory=dict)
    picked: str = ""  # why this strategy ran (strategy="auto" says what it chose and why)

    @property
    def gain(self) -> float | None:
        if self.initial_score is None or self.best_score is None:
            return None
        return self.best_score - self.initial_score
