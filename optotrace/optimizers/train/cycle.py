"""The one minibatch cycle every driver runs: run the workflow on a minibatch with the current values, hand the
successful runs to the demo harvesters, `backward` the feedback onto the parameters, and ask an optimizer for
candidates from what the parameters received.

    seen = reflect(evaluator, optimizers, batch, backward_on="failing")
    candidates = propose(opt, seen.context(step=3, has_val=True))

The step-by-step Trainer backwards every outcome (a correct answer's "Correct." is signal too); the searches
backward only the failures (their proposals exist to fix them).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from optotrace.llm.run_budget import budget_phase
from optotrace.optimizers.contract import Candidate, CandidateOptimizer, DemoHarvester, StepContext
from optotrace.optimizers.train.evaluation import Evaluator, ExampleResult

__all__ = ["Reflection", "backward_outcomes", "propose", "reflect"]


@dataclass
class Reflection:
    """One minibatch run with the current values: the examples, their outcomes and inputs, the mean score."""

    batch: list[Any]
    outcomes: list[ExampleResult]
    inputs: list[Any]
    score: float
    perfect_score: float = 1.0

    @property
    def failing(self) -> list[ExampleResult]:
        return [o for o in self.outcomes if o.score < self.perfect_score or o.error]

    def context(self, step: int, *, has_val: bool) -> StepContext:
        return StepContext(step, self.batch, self.score, self.outcomes, self.inputs, has_val=has_val)


def backward_outcomes(outcomes: Sequence[ExampleResult]) -> None:
    """Each outcome's feedback onto the subgraph that produced it (a failed call: onto its exception node)."""
    from optotrace.trace import Node

    for o in outcomes:
        target = o.error_node if o.error_node is not None else o.output
        if isinstance(target, Node):
            target.backward(o.feedback)


def reflect(
    evaluator: Evaluator,
    optimizers: Sequence[Any],
    batch: Sequence[Any],
    *,
    backward_on: Literal["all", "failing", "none"] = "all",
    perfect_score: float = 1.0,
) -> Reflection:
    """Run `batch` traced with the current values and leave the feedback on the parameters."""
    for opt in optimizers:
        opt.zero_feedback()
    outcomes = evaluator.run_batch(list(batch))
    inputs = [evaluator.input_fn(e) for e in batch]
    for opt in optimizers:  # every successful run is a demo to pool, whichever optimizer steps next
        if isinstance(opt, DemoHarvester):
            opt.harvest(outcomes, inputs)
    seen = Reflection(list(batch), outcomes, inputs, sum(o.score for o in outcomes) / max(1, len(outcomes)),
                      perfect_score)
    if backward_on != "none":
        backward_outcomes(outcomes if backward_on == "all" else seen.failing)
    return seen


def propose(opt: CandidateOptimizer, context: StepContext) -> list[Candidate]:
    """`opt`'s candidates from the feedback `reflect` left (their calls counted as the "proposal" phase)."""
    with budget_phase("proposal"):
        return opt.propose_candidates(context)
