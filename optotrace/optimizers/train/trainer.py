"""`Trainer`: the step-by-step driver (strategy "train"): the minibatch loop around one or more optimizers, with
candidate scoring, a run budget, checkpoints and resume.

    trainer = Trainer(program, OptoPrime(program.parameters(), llm=llm), trainset, valset, metric=metric,
                      minibatch_size=4, epochs=2, run_dir="runs/demo", budget=200)
    result = trainer.fit()            # an OptimizeResult; result.spent: calls and tokens, in all and by phase

`metric(example, output) -> (score, feedback)`, higher scores are better. `program(x)` is called with
`input_fn(example)` (see evaluation.default_input). Each step is the shared cycle (cycle.py): the minibatch runs
(at most `concurrency` at a time, each in its own graph), demo harvesters pool the successful runs, each output
gets `backward(feedback)` (a failed call's ExceptionNode gets the error), then every optimizer steps through the
contract in contract.py:
- a CandidateOptimizer (OptoPrime, OPRO, TextGrad, BootstrapFewShot) proposes candidates without applying
  them; each one that changes something is scored on the minibatch (or on the validation set when it asks),
  and the best is applied only when it scores strictly higher than the current values (selection.py). With
  `score_candidates=False` the first valid candidate is applied unscored (the old behaviour; cheaper).
- any other TrainableOptimizer (the numeric adapter) steps as it is.
Then the validation set is scored, and the step is written to `run_dir`. `resume=True` continues from the last
finished step: parameters, optimizer states, the budget spent, the shuffle (a function of seed and epoch) and
the step index all come back, so under a deterministic model the result equals an uninterrupted run's.

`budget=`: LLM calls (an int), {"calls": n, "tokens": m}, or a RunBudget. It covers every request made during
the run: proposals, and the workflow's own calls while scoring. A request that would cross it is refused
before it is made; the run then ends cleanly after its last finished step and keeps its best values
(`result.stopped == "budget"`). The spending is reported whether or not a limit is set.
"""

from __future__ import annotations

import logging
import math
import random
import time
from collections.abc import Callable, Mapping, Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from optotrace.llm.run_budget import RunBudget, RunBudgetExhausted
from optotrace.optimizers.base import collect_parameters, stable_names
from optotrace.optimizers.contract import (
    CandidateOptimizer,
    Explorer,
    StepContext,
    StepResult,
    TrainableOptimizer,
)
from optotrace.optimizers.errors import TrainerError
from optotrace.optimizers.train.checkpoints import Checkpoints, short
from optotrace.optimizers.train.cycle import propose, reflect
from optotrace.optimizers.train.evaluation import Evaluator, ExampleResult, default_input
from optotrace.optimizers.train.graph_snapshot import save_step_graph
from optotrace.optimizers.train.progress import ScoreProgress
from optotrace.optimizers.train.result import OptimizeResult
from optotrace.optimizers.train.selection import choose_candidate

log = logging.getLogger("optotrace.optimizers.train.trainer")

__all__ = ["ExampleResult", "Trainer", "default_input"]

Metric = Callable[[Any, Any], Any]


@runtime_checkable
class HasNamedParameters(Protocol):
    """An agent that names its parameters (ot.Module does), so checkpoints use its names."""

    def named_parameters(self) -> Mapping[str, Any]: ...


class Trainer:
    def __init__(
        self,
        program: Callable[[Any], Any],
        optimizer: TrainableOptimizer | Sequence[TrainableOptimizer],
        trainset: Sequence[Any],
        valset: Sequence[Any] | None = None,
        *,
        metric: Metric,
        minibatch_size: int = 4,
        epochs: int = 1,
        steps: int | None = None,
        concurrency: int = 4,
        run_dir: str | Path | None = None,
        resume: bool = False,
        seed: int = 0,
        input_fn: Callable[[Any], Any] | None = None,
        target: float | None = None,
        restore_best: bool = True,
        failure_score: float = 0.0,
        progress: bool = True,
        budget: RunBudget | int | dict[str, int] | None = None,
        score_candidates: bool = True,
        cache_scores: bool = True,
    ) -> None:
        if not trainset:
            raise TrainerError("the training set is empty; pass at least one example")
        self.agent = program
        self.optimizers: list[TrainableOptimizer] = (
            list(optimizer) if isinstance(optimizer, (list, tuple)) else [optimizer])  # type: ignore[list-item]
        for opt in self.optimizers:
            if not isinstance(opt, TrainableOptimizer):
                raise TrainerError(
                    f"{type(opt).__name__} is not an optimizer the Trainer can drive: it needs params, "
                    "zero_feedback(), step(), end_step(), state_dict(), load_state_dict() and usage "
                    "(see optotrace.optimizers.contract)")
        self.train = list(trainset)
        self.val = list(valset) if valset else None
        self.metric = metric
        self.minibatch_size = max(1, min(int(minibatch_size), len(self.train)))
        self.batches_per_epoch = math.ceil(len(self.train) / self.minibatch_size)
        self.total_steps = int(steps) if steps is not None else int(epochs) * self.batches_per_epoch
        self.run_dir = Path(run_dir) if run_dir is not None else None
        self.resume = resume
        self.seed = seed
        self.target = target
        self.restore_best = restore_best
        self.progress = progress
        self.budget = RunBudget.coerce(budget) or RunBudget()
        self.score_candidates = score_candidates
        from optotrace.trace import ParameterNode

        nodes = [p for opt in self.optimizers for p in opt.params if isinstance(p, ParameterNode)]
        self.params = collect_parameters(nodes) if nodes else []
        self.named = self._named_parameters()
        self.evaluator = Evaluator(program, metric, params=list(self.named.values()), input_fn=input_fn,
                                   concurrency=concurrency, failure_score=failure_score, cache_scores=cache_scores)
        self.checkpoints = Checkpoints(self.run_dir, self.named, self.optimizers) if self.run_dir else None
        self._step_start: dict[Any, Any] = {}
        self._start_values = {p: p.data for p in self.named.values()}
        self._best_values: dict[Any, Any] = {}

    @property
    def concurrency(self) -> int:
        return self.evaluator.concurrency

    def _named_parameters(self) -> dict[str, Any]:
        """The agent's own names for the parameters (a Module, or anything with named_parameters()) when it
        names them all, else the names their users gave them."""
        if isinstance(self.agent, HasNamedParameters):
            named = self.agent.named_parameters()
            ids = {id(p) for p in named.values()}
            if all(id(p) in ids for p in self.params):
                return dict(named)
        names = stable_names(self.params)
        return {names[id(p)]: p for p in self.params}

    # -- running the agent -----------------------------------------------------------------------------------
    def run_batch(self, examples: Sequence[Any]) -> list[ExampleResult]:
        """Run the agent on `examples` on at most `concurrency` threads; outcomes in example order."""
        return self.evaluator.run_batch(examples)

    def evaluate(self, examples: Sequence[Any]) -> float:
        """The mean score of the current values on `examples` (remembered scores are reused)."""
        return self.evaluator.mean(examples) if examples else 0.0

    def batch_for(self, step: int) -> tuple[int, list[Any]]:
        """(epoch, examples) of step `step` (0-based); the shuffle depends only on (seed, epoch)."""
        epoch, pos = divmod(step, self.batches_per_epoch)
        order = list(range(len(self.train)))
        random.Random(f"{self.seed}:{epoch}").shuffle(order)
        idx = order[pos * self.minibatch_size : (pos + 1) * self.minibatch_size]
        return epoch, [self.train[i] for i in idx]

    # -- the loop --------------------------------------------------------------------------------------------
    def fit(self) -> OptimizeResult:
        t_start = time.perf_counter()
        self._start_values, self._best_values = {p: p.data for p in self.named.values()}, {}
        with ExitStack() as stack:
            stack.enter_context(self.budget.active())
            try:
                state = self._start()
            except RunBudgetExhausted as exc:
                log.warning("%s", exc)
                state = self._fresh_state(None)
                state["stopped"] = "budget"
            self._graph_step = state["step"]  # the first step this call runs
            bar = ScoreProgress(self.total_steps, state["step"], self.progress)
            try:
                while not state.get("stopped") and state["step"] < self.total_steps and not self._reached(state):
                    try:
                        record = self._one_step(state)
                    except RunBudgetExhausted as exc:
                        log.warning("step %d: %s", state["step"] + 1, exc)
                        state["stopped"] = "budget"
                        self._abandon_step()
                        break
                    self._record(state, record)
                    bar.advance(record["train_score"], record["val_score"], state["best_score"])
            finally:
                bar.close()
        return self._finish(state, time.perf_counter() - t_start)

    def _one_step(self, state: dict[str, Any]) -> dict[str, Any]:
        step = state["step"]
        t0 = time.perf_counter()
        spent0 = self.budget.report()
        epoch, batch = self.batch_for(step)
        self._step_start = {p: p.data for p in self.named.values()}
        seen = reflect(self.evaluator, self.optimizers, batch, backward_on="all")
        outcomes = seen.outcomes
        if self.checkpoints is not None and step == self._graph_step:  # the run report draws this step's graph
            save_step_graph(self.checkpoints.dir, step + 1, outcomes)
        train_score = seen.score
        if self.val is None and (state["best_score"] is None or train_score > state["best_score"]):
            state["best_score"], state["best_step"] = train_score, step  # params before this update
        applied = rejected = proposed = kept = 0
        done = self.val is None and self.target is not None and train_score >= self.target
        current: float | None = train_score
        context = seen.context(step, has_val=self.val is not None)
        results: list[tuple[TrainableOptimizer, StepResult]] = []
        for opt in [] if done else self.optimizers:  # at the target already: keep these values
            if isinstance(opt, Explorer):  # an explorer: its next point is applied, to be evaluated next
                opt.observe(train_score)
                result = StepResult(applied=dict(opt.step()))
                if result.applied:
                    current = context.batch_score = None
            elif isinstance(opt, CandidateOptimizer):
                result = self._candidate_step(opt, context, current)
                proposed += sum(1 for c in result.candidates if c.update)
                shown = result.chosen or (result.candidates[0] if result.candidates else None)
                rejected += len(shown.rejections) if shown is not None else 0
                if result.chosen is not None:
                    kept += 1
                    at = next(i for i, c in enumerate(result.candidates) if c is result.chosen)
                    score = result.scores[at] if at < len(result.scores) else None
                    # the next optimizer must beat the new values: their batch score, measured when unknown
                    current = context.batch_score = score if result.chosen.score_on == "batch" else None
            else:
                update = opt.step()
                result = StepResult(applied=dict(update))
                if update:  # the values changed under the batch score: measure it again when it is needed
                    current = context.batch_score = None
            applied += len(result.applied)
            results.append((opt, result))
        for opt in self.optimizers:
            opt.zero_feedback()  # the step's graphs are no longer needed
        for opt, result in results:
            opt.end_step(result)
        val_score = self.evaluate(self.val) if self.val is not None else None
        spent1 = self.budget.report()
        return {
            "step": step + 1,
            "epoch": epoch,
            "train_score": train_score,
            "val_score": val_score,
            "applied": applied,
            "rejected": rejected,
            "candidates": proposed,
            "kept": kept,
            "errors": sum(1 for o in outcomes if o.error),
            "calls": spent1["calls"] - spent0["calls"],
            "tokens": spent1["tokens"] - spent0["tokens"],
            "cost_usd": spent1["cost_usd"] - spent0["cost_usd"],
            "calls_by_phase": _phase_calls(spent0, spent1),
            "seconds": round(time.perf_counter() - t0, 3),
            "examples": [{"score": o.score, "feedback": short(o.feedback), "error": o.error} for o in outcomes],
        }

    def _candidate_step(self, opt: CandidateOptimizer, context: StepContext, current: float | None) -> StepResult:
        if current is None and self.score_candidates:
            current = context.batch_score = self.evaluator.mean(context.batch)
        candidates = propose(opt, context)
        valid = [c for c in candidates if c.update]
        if not valid:
            return StepResult(candidates, None, [None] * len(candidates), current)
        if not self.score_candidates:
            result = StepResult(candidates, valid[0], [None] * len(candidates), current)
        else:
            result = choose_candidate(self.evaluator, candidates, context.batch, current or 0.0, self.val)
        if result.chosen is not None:
            result.applied = opt.apply(result.chosen.update)
        return result

    def _abandon_step(self) -> None:
        """The budget ended a step half-way: drop its graphs and take back what it applied, so the run ends
        on the values of its last finished step."""
        for opt in self.optimizers:
            opt.zero_feedback()
        for p, value in self._step_start.items():
            p.set(value)

    def _record(self, state: dict[str, Any], record: dict[str, Any]) -> None:
        step = record["step"]
        val_score = record["val_score"]
        if val_score is not None and (state["best_score"] is None or val_score > state["best_score"]):
            state["best_score"], state["best_step"] = val_score, step
            self._best_values = {p: p.data for p in self.named.values()}
        record["best_score"], record["best_step"] = state["best_score"], state["best_step"]
        state["history"].append({k: v for k, v in record.items() if k != "examples"})
        state["step"] = step
        state["spent"] = self.budget.report()
        if self.checkpoints is not None:
            self.checkpoints.write_step(state, record)

    def _reached(self, state: dict[str, Any]) -> bool:
        if self.target is None or not state["history"]:
            return False
        last = state["history"][-1]
        score = last["val_score"] if self.val is not None else last["train_score"]
        return score is not None and score >= self.target

    # -- start, resume, finish -------------------------------------------------------------------------------
    def _fresh_state(self, initial: float | None) -> dict[str, Any]:
        return {"step": 0, "best_score": initial, "best_step": 0, "initial_val_score": initial, "history": [],
                "optimizers": [], "total_steps": self.total_steps, "stopped": None, "spent": {}}

    def _start(self) -> dict[str, Any]:
        if self.checkpoints is not None:
            saved = self.checkpoints.start(self._config(), self.resume)
            if saved is not None:
                self.budget.load_state_dict(saved.get("spent") or {})
                saved["stopped"] = None
                return saved
        initial = self.evaluate(self.val) if self.val is not None else None
        state = self._fresh_state(initial)
        state["spent"] = self.budget.report()
        if self.checkpoints is not None:
            self.checkpoints.write_initial(state)
        return state

    def _config(self) -> dict[str, Any]:
        return {
            "agent": getattr(self.agent, "__qualname__", type(self.agent).__name__),
            "optimizers": [type(o).__name__ for o in self.optimizers],
            "train_size": len(self.train),
            "val_size": len(self.val) if self.val else 0,
            "minibatch_size": self.minibatch_size,
            "total_steps": self.total_steps,
            "seed": self.seed,
            "budget": {"calls": self.budget.calls, "tokens": self.budget.tokens},
            "score_candidates": self.score_candidates,
            "parameters": list(self.named),
        }

    def _finish(self, state: dict[str, Any], seconds: float) -> OptimizeResult:
        history = state["history"]
        best_step = int(state["best_step"])
        final = None
        if history:
            final = history[-1]["val_score"] if self.val is not None else history[-1]["train_score"]
        state["spent"] = self.budget.report()
        if self.restore_best and best_step != state["step"]:
            if self.checkpoints is not None:
                self.checkpoints.load_params(best_step)
            elif self.val is not None:  # no run directory: the best values were kept in memory
                for p, value in (self._best_values or self._start_values).items():
                    p.set(value)
        if self.checkpoints is not None:
            self.checkpoints.write_summary(state, self.agent, final, seconds)
        stopped = state.get("stopped") or ("target" if self._reached(state) else None)
        return OptimizeResult(
            strategy="train",
            initial_score=state.get("initial_val_score") if self.val is not None else (
                history[0]["train_score"] if history else None),
            best_score=state["best_score"],
            best_values={k: p.data for k, p in self.named.items()},
            history=history,
            spent=state["spent"],
            stopped=stopped,
            seconds=round(seconds, 3),
            run_dir=self.run_dir,
            final_score=final,
            best_step=best_step,
            steps=state["step"],
            details={"optimizers": [type(o).__name__ for o in self.optimizers]},
        )


def _phase_calls(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, dict[str, int]]:
    """{phase: {"calls", "tokens"}} spent between two budget reports (proposal, evaluation, ...)."""
    was = before.get("by_phase") or {}
    out = {}
    for phase, now in (after.get("by_phase") or {}).items():
        old = was.get(phase) or {}
        calls, tokens = now["calls"] - old.get("calls", 0), now["tokens"] - old.get("tokens", 0)
        if calls or tokens:
            out[phase] = {"calls": calls, "tokens": tokens}
    return out
