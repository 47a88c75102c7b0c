"""The optimizer contract: what the Trainer and the search may call on an optimizer, written down.

Two protocols. Every optimizer the Trainer drives is a `TrainableOptimizer`: it holds `params`, clears their
feedback, steps, is told when a step ends, saves and loads its state as JSON, and reports the usage of its
model (None when it has none, e.g. a torch optimizer). A `CandidateOptimizer` also proposes candidate updates
*without applying them*, so the Trainer can score each beside the current values and keep only one that
scores better; it applies the chosen one with `apply(update)` and then closes the step with `end_step(result)`.

    cands = opt.propose_candidates(StepContext(step=3, batch=examples, batch_score=0.5))
    ... the Trainer scores cands on the batch (or the validation set when a candidate asks for it) ...
    opt.apply(best.update)                       # only when best scored higher than the current values
    opt.end_step(StepResult(chosen=best, scores=[...], current_score=0.5))

The Trainer decides which path to take with `isinstance(opt, CandidateOptimizer)` (a runtime-checkable
protocol: a declared contract, not attribute probing).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol, runtime_checkable

if TYPE_CHECKING:
    from optotrace.llm import UsageTotals
    from optotrace.trace import ParameterNode

__all__ = [
    "Candidate", "CandidateOptimizer", "DemoHarvester", "Explorer", "StepContext", "StepResult", "TrainableOptimizer",
    "Update",
]

Update = dict["ParameterNode", Any]


@dataclass
class Candidate:
    """One proposed update, not applied: {parameter: new value} (only values that differ from the current).

    `score_on`: "batch" (the step's minibatch, the default) or "val" (the validation set: for values that
    were built from the training examples themselves, such as few-shot demos, a minibatch score would leak).
    `rejections`: {variable name: reason} for suggestions of the same reply that failed validation.
    """

    update: Update
    source: str = ""
    score_on: Literal["batch", "val"] = "batch"
    rejections: dict[str, str] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)


@dataclass
class StepContext:
    """What the Trainer knows at the start of a step: the step index (0-based), the minibatch, the mean score
    of the current values on it, each example's outcome (example, output, score, feedback, error) and input."""

    step: int
    batch: Sequence[Any] = ()
    batch_score: float | None = None
    outcomes: Sequence[Any] = ()
    inputs: Sequence[Any] = ()
    has_val: bool = False  # candidates with score_on="val" are scored on a validation set (else on the batch)


@dataclass
class StepResult:
    """How the Trainer decided: the candidate applied (None: the current values were kept), every candidate's
    score (None where it was not scored), the current values' score, and what was applied."""

    candidates: Sequence[Candidate] = ()
    chosen: Candidate | None = None
    scores: Sequence[float | None] = ()
    current_score: float | None = None
    applied: Mapping[Any, Any] = field(default_factory=dict)
    stopped: str | None = None  # why the step ended early (the run's budget), else None


@runtime_checkable
class TrainableOptimizer(Protocol):
    """What every optimizer given to the Trainer provides."""

    @property
    def params(self) -> list[ParameterNode]: ...

    def zero_feedback(self) -> None: ...

    def step(self) -> Mapping[Any, Any]: ...

    def end_step(self, result: StepResult | None = None) -> None: ...

    def state_dict(self) -> dict[str, Any]: ...

    def load_state_dict(self, state: dict[str, Any]) -> None: ...

    @property
    def usage(self) -> UsageTotals | None: ...


@runtime_checkable
class CandidateOptimizer(TrainableOptimizer, Protocol):
    """An optimizer whose proposals are scored before they are kept (OptoPrime, OPRO, TextGrad, demos)."""

    num_candidates: int

    def propose_candidates(self, context: StepContext | None = None) -> list[Candidate]: ...

    def apply(self, update: Mapping[Any, Any]) -> dict[Any, Any]: ...


@runtime_checkable
class Explorer(TrainableOptimizer, Protocol):
    """An optimizer that explores (Bayesian optimization, evolutionary search) and says so (`explores = True`):
    before each step the Trainer tells it the minibatch score of the current values, and its step sets the next
    point to try, applied as it is (never scored against the current values first: the point is what the next
    minibatch evaluates)."""

    explores: bool

    def observe(self, score: float) -> None: ...


@runtime_checkable
class DemoHarvester(CandidateOptimizer, Protocol):
    """An optimizer that learns from the workflow's successful runs rather than from feedback (BootstrapFewShot):
    every driver hands it each minibatch's outcomes and inputs (`harvest`), whichever optimizer steps, and its
    candidates (subsets of what it pooled) need no failures to be proposed."""

    def harvest(self, outcomes: Sequence[Any], inputs: Sequence[Any]) -> int: ...
