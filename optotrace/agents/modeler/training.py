"""Training the modeler's prompts with OptoPrime on an OptiBench split, scored by the benchmark grader."""

from __future__ import annotations

import os
import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from optotrace.agents.modeler.agent import ModelerAgent
from optotrace.agents.modeler.outcome import Outcome
from optotrace.modeling.grading import grade
from optotrace.modeling.problem import Problem


@dataclass
class Split:
    train: list[Problem]
    val: list[Problem]
    test: list[Problem]


def split(problems: Sequence[Problem], train: int, val: int, test: int | None = None, seed: int = 0) -> Split:
    """A seeded shuffle cut into train / val / held-out test (test: the rest when None)."""
    items = list(problems)
    random.Random(seed).shuffle(items)
    a, b = train, train + val
    rest = items[b:] if test is None else items[b : b + test]
    return Split(items[:a], items[a:b], rest)


class TracedModeler:
    """What the Trainer calls: problem -> the final Outcome node (traced), with named parameters."""

    def __init__(self, agent: ModelerAgent) -> None:
        self.agent = agent

    def __call__(self, problem: Problem) -> Any:
        return self.agent.forward(problem)[0]

    def named_parameters(self) -> dict[str, Any]:
        return self.agent.named_parameters()

    def save(self, path: str | os.PathLike[str]) -> Path:
        """The agent's parameter file (the Trainer writes best_params.json through this)."""
        return self.agent.save(path)

    def load(self, path: str | os.PathLike[str]) -> None:
        self.agent.load(path)


def metric(problem: Problem, outcome: Any) -> tuple[float, str]:
    """(score, feedback): 1.0 when every value is right, else the fraction of right values (a failed
    run scores 0); the feedback names each wrong or missing value and why."""
    if not isinstance(outcome, Outcome):
        return 0.0, f"The workflow failed: {outcome}"
    g = grade(problem, outcome.output, code_ok=outcome.ran, failure=None if outcome.ran else outcome.problem,
              values=outcome.values)
    if g.correct:
        return 1.0, g.feedback()
    right = sum(k.ok for k in g.keys)
    score = right / len(g.keys) if g.keys and g.code_ok and g.failure is None else 0.0
    return 0.9 * score, g.feedback()


def train_modeler(
    agent: ModelerAgent,
    train: Sequence[Problem],
    val: Sequence[Problem] | None,
    optimizer_llm: Any = None,
    epochs: int = 1,
    batch_size: int = 4,
    steps: int | None = None,
    concurrency: int = 4,
    run_dir: str | os.PathLike[str] | None = None,
    seed: int = 0,
    progress: bool = True,
) -> tuple[Any, Path | None]:
    """Optimize the agent's prompts; the best parameters stay in the agent and are saved as
    `run_dir/best_params.json` (the Module parameter file). Returns (OptimizeResult, path)."""
    from optotrace.optimizers import OptoPrime, optimize

    optimizer = OptoPrime(agent.parameters(), llm=optimizer_llm if optimizer_llm is not None else agent.llm, memory_size=3,
                          objective="Make the modeling agent's answers correct: every requested value must match "
                          "the gold optimum within 1e-4. Improve the system prompt and the instructions.")
    # the command line has already checked run_dir (--resume / --overwrite) and writes the report itself
    result = optimize(TracedModeler(agent), list(train), valset=list(val) if val else None, metric=metric,
                      strategy="train", optimizers=[optimizer], budget=None, minibatch_size=batch_size, epochs=epochs,
                      steps=steps, concurrency=concurrency, run_dir=run_dir, overwrite=True, seed=seed,
                      progress=progress, report=False)
    path = agent.save(Path(run_dir) / "best_params.json") if run_dir is not None else None
    return result, path
