"""Keep a candidate only when it scores better than the current values.

Each candidate with a real change is scored on the examples it asks for (the step's minibatch, or the
validation set for candidates built from training examples) with its update in place; the current values'
score on the same examples is known (the minibatch was just run) or measured once (and remembered). The
candidate with the highest score among those that beat the current values strictly is chosen; a tie keeps
the current values. Candidates are scored one after another (parameters are shared by every thread), each
on `concurrency` threads at a time, and every workflow call counts against the run's budget.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from optotrace.optimizers.contract import Candidate, StepResult
from optotrace.optimizers.train.evaluation import Evaluator, ExampleResult

__all__ = ["choose_candidate", "failure_feedback"]

FEEDBACK_ITEMS = 3
FEEDBACK_CHARS = 300


def choose_candidate(
    evaluator: Evaluator,
    candidates: Sequence[Candidate],
    batch: Sequence[Any],
    batch_score: float,
    val: Sequence[Any] | None = None,
) -> StepResult:
    """Score the candidates that change something and pick the best one that beats the current values.
    Raises RunBudgetExhausted (from the evaluator) when the run's budget ends during scoring."""
    scores: list[float | None] = [None] * len(candidates)
    current: dict[str, float] = {"batch": batch_score}
    best: tuple[float, int] | None = None
    for i, cand in enumerate(candidates):
        if not cand.update:
            continue
        where = "val" if cand.score_on == "val" and val else "batch"
        examples = val if where == "val" and val else batch
        if where not in current:
            current[where] = evaluator.mean(examples)
        outcomes = evaluator.outcomes(examples, cand.update)
        score = sum(o.score for o in outcomes) / len(outcomes)
        scores[i] = score
        cand.info["feedback"] = failure_feedback(outcomes)
        cand.info["current_score"] = current[where]
        gain = score - current[where]
        if gain > 0 and (best is None or gain > best[0]):
            best = (gain, i)
    chosen = candidates[best[1]] if best is not None else None
    scored_on = chosen.score_on if chosen is not None else next(
        (c.score_on for c, s in zip(candidates, scores, strict=True) if s is not None), "batch")
    where = "val" if scored_on == "val" and val else "batch"
    return StepResult(list(candidates), chosen, scores, current.get(where, batch_score))


def failure_feedback(outcomes: Sequence[ExampleResult]) -> list[str]:
    """The distinct feedback of the examples that did not score full marks, shortened (for notes)."""
    top = max((o.score for o in outcomes), default=0.0)
    out: list[str] = []
    for o in outcomes:
        if o.score >= max(top, 1.0) and not o.error:
            continue
        text = o.feedback if isinstance(o.feedback, str) else str(o.feedback)
        text = text if len(text) <= FEEDBACK_CHARS else text[: FEEDBACK_CHARS - 3] + "..."
        if text and text not in out:
            out.append(text)
        if len(out) >= FEEDBACK_ITEMS:
            break
    return out


def next_minibatch(trainset: Sequence[Any], order: list[int], size: int, rng: Any) -> list[Any]:
    """The next `size` training examples of a reshuffled order (each example once per pass); `order` holds
    the indices not yet drawn and is consumed in place."""
    if len(order) < size:
        fresh = list(range(len(trainset)))
        rng.shuffle(fresh)
        order.extend(fresh)
    idx = order[:size]
    del order[:size]
    return [trainset[i] for i in idx]
