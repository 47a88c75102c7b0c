"""Few-shot demonstrations bootstrapped from the workflow's own successful runs (DSPy BootstrapFewShot-style)
and chosen by validation score (random search over subsets, bounded).

As an optimizer beside others in one Trainer run:

    examples = ot.demos(name="examples", max_demos=3)
    trainer = Trainer(agent, [OptoPrime([instruction], llm=llm), BootstrapFewShot(examples)], train, val, ...)

Each step, every minibatch example that scored at least `min_score` without an error adds a demonstration to
the pool: the traced call that used the demos parameter gives the pair (its other inputs, its output), so a
multi-stage workflow gets demos of the stage that reads them; when the output is no node, the pair is the
workflow's input and output. Then `num_candidates` random subsets of the pool (at most `max_demos` each, each
different from the current demos) are proposed, to be scored on the validation set (`score_on="val"`: scoring on
the minibatch would let a demo answer its own example; without a validation set the Trainer scores on the
minibatch and demos of the minibatch's own inputs are left out). The Trainer keeps a subset only when it
scores strictly better.

On its own (no other optimizer): the demos strategy, `optimize(..., strategy="demos")` (search/demos.py).
"""

from __future__ import annotations

import json
import random
from collections.abc import Mapping, Sequence
from typing import Any

from optotrace.optimizers.contract import Candidate, StepContext, StepResult
from optotrace.optimizers.errors import OptimizerError
from optotrace.optimizers.train.evaluation import ExampleResult
from optotrace.trace import Demos, Node
from optotrace.trace.demos import as_pairs

__all__ = ["BootstrapFewShot", "demo_from_outcome", "plain_value", "value_key"]


class BootstrapFewShot:
    """A DemoHarvester (contract.py) for one Demos parameter."""

    def __init__(self, demos: Demos, *, max_demos: int | None = None, num_candidates: int = 4,
                 min_score: float = 1.0, pool_size: int = 64, seed: int = 0, labeled: Sequence[Any] = ()) -> None:
        if not isinstance(demos, Demos):
            raise OptimizerError(f"BootstrapFewShot takes a Demos parameter (ot.demos(...)), not {demos!r}")
        self.demos = demos
        self.max_demos = int(max_demos or demos.max_demos)
        self.num_candidates = max(1, int(num_candidates))
        self.min_score = float(min_score)
        self.pool_size = int(pool_size)
        self.seed = seed
        self.pool: list[dict[str, Any]] = []
        self.labeled: list[dict[str, Any]] = as_pairs(labeled)  # (input, known answer) pairs: no model call
        self.step_count = 0
        self.logs: list[dict[str, Any]] = []

    @property
    def params(self) -> list[Demos]:
        return [self.demos]

    @property
    def usage(self) -> None:
        return None  # calls no model itself; the workflow's calls while scoring count in the run's budget

    def zero_feedback(self) -> None:
        self.demos.zero_feedback()

    # -- bootstrapping --------------------------------------------------------------------------------------
    def harvest(self, outcomes: Sequence[ExampleResult], inputs: Sequence[Any]) -> int:
        """Add the successful outcomes' demonstrations to the pool; how many were new."""
        known = {value_key(d["input"]) for d in self.pool}
        added = 0
        for outcome, raw_input in zip(outcomes, inputs, strict=False):
            if outcome.error is not None or outcome.score < self.min_score:
                continue
            demo = demo_from_outcome(self.demos, outcome, raw_input)
            if demo is None or value_key(demo["input"]) in known:
                continue
            known.add(value_key(demo["input"]))
            self.pool.append(demo)
            added += 1
        del self.pool[: max(0, len(self.pool) - self.pool_size)]  # the newest pool_size demos
        return added

    def propose_candidates(self, context: StepContext | None = None) -> list[Candidate]:
        exclude: set[str] = set()
        if context is not None:
            self.harvest(context.outcomes, context.inputs)
            if not context.has_val:  # scored on this batch: a demo must not answer an example it is scored on
                exclude = {value_key(x) for x in context.inputs}
        bootstrapped = {value_key(d["input"]) for d in self.pool}
        pool = [d for d in [*self.pool, *(d for d in self.labeled if value_key(d["input"]) not in bootstrapped)]
                if value_key(d["input"]) not in exclude]
        rng = random.Random(f"{self.seed}:{self.step_count}")
        current = value_key(self.demos.data)
        seen = {current}
        out: list[Candidate] = []
        for _ in range(self.num_candidates * 8):  # bounded tries for distinct subsets
            if len(out) >= self.num_candidates or not pool:
                break
            most = min(self.max_demos, len(pool))
            k = rng.randint(max(1, (most + 1) // 2), most)  # one demo rarely shows the pattern: half or more
            subset = [pool[i] for i in sorted(rng.sample(range(len(pool)), k))]  # in pool order: one key per set
            key = value_key(subset)
            if key in seen:
                continue
            seen.add(key)
            out.append(Candidate({self.demos: subset}, source="bootstrap", score_on="val"))
        return out

    def apply(self, update: Mapping[Any, Any]) -> dict[Any, Any]:
        changed = {p: v for p, v in update.items() if value_key(p.data) != value_key(v)}
        for p, v in changed.items():
            p.set(v)
        return changed

    def step(self) -> dict[Any, Any]:
        """Standalone use: apply the first proposed subset (the Trainer scores them instead)."""
        cands = self.propose_candidates(None)
        applied = self.apply(cands[0].update) if cands else {}
        self.end_step(StepResult(cands, cands[0] if cands else None, applied=applied))
        return applied

    def end_step(self, result: StepResult | None = None) -> None:
        self.step_count += 1
        result = result or StepResult()
        self.logs.append({"step": self.step_count, "pool": len(self.pool), "candidates": len(result.candidates),
                          "scores": list(result.scores), "current_score": result.current_score,
                          "applied": len(self.demos.data) if result.applied else None})

    def state_dict(self) -> dict[str, Any]:
        return {"type": type(self).__name__, "step_count": self.step_count, "pool": self.pool,
                "labeled": self.labeled, "logs": self.logs}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if state.get("type") not in (None, type(self).__name__):
            raise OptimizerError(f"this state belongs to a {state.get('type')}, not a BootstrapFewShot")
        self.step_count = int(state.get("step_count", 0))
        self.pool = list(state.get("pool", []))
        self.labeled = as_pairs(state.get("labeled", self.labeled))
        self.logs = list(state.get("logs", []))


def demo_from_outcome(demos: Demos, outcome: ExampleResult, raw_input: Any) -> dict[str, Any] | None:
    """The pair for one successful run: the traced call that read `demos` (its other inputs, its output),
    else the workflow's input and output."""
    output = outcome.output
    if isinstance(output, Node):
        from optotrace.trace import ancestors

        for n in ancestors(output):
            inputs = getattr(n, "inputs", None)
            if not inputs or not any(v is demos for v in inputs.values()):
                continue
            rest = {k: v.data for k, v in inputs.items() if v is not demos and not v.trainable}
            value = next(iter(rest.values())) if len(rest) == 1 else rest
            return {"input": plain_value(value), "output": plain_value(n.data)}
        output = output.data
    return {"input": plain_value(raw_input), "output": plain_value(output)}


def value_key(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=repr)


def plain_value(value: Any) -> Any:
    try:
        json.dumps(value)
        return value
    except (TypeError, ValueError):
        return repr(value)
