"""GEPA-style search (Agrawal et al., "GEPA: Reflective Prompt Evolution"), on optotrace's own graph.

    result = ot.optimize(program, trainset, valset=valset, metric=metric, budget=300, strategy="population")
    result = GEPA(program, OptoPrime([instruction], llm=llm), trainset, valset, metric=metric, budget=300).fit()
    result.best_score, result.best_values, result.details["front"], result.spent

A pool of programs (the parameters' values) starts with the current values, scored per validation example.
Each iteration either
- mutates reflectively: a parent is drawn from the Pareto front (pareto.py), its values are put in place, a
  minibatch of training examples runs traced, the failing examples' outputs get `backward(feedback)`, and an
  optimizer (the given ones in turn: OptoPrime, TextGrad, OPRO, BootstrapFewShot...) proposes candidates from
  those subgraphs and feedback; a candidate that beats the parent on the same minibatch is scored on the whole
  validation set and joins the pool (the minibatch is the shared cycle, train/cycle.py); or
- merges (after a new program was found, at most `max_merges` times): two front programs that win on
  different examples are combined parameter by parameter (pareto.merge_values); the merge is scored on a few
  validation examples where its parents disagree and joins the pool when it does at least as well as the
  better parent there, after a full validation score.
Ends when `budget` (LLM calls or tokens, covering proposals and every workflow call) or `max_iterations` is
spent, then leaves the best program's values (highest mean validation score) in the parameters. With a
`run_dir` each iteration is recorded there (train/search_run.py) and `resume=True` continues a killed run.

Why our own search rather than the `gepa` package's adapter: the adapter hands candidates around as
{name: text}, so code, numeric and demo parameters would need string round-trips and their own validation; its
reflection calls its own LLM client, outside optotrace's cache, usage and run budget; and our reflective step
already exists (the optimizers read the subgraph and feedback that `backward` leaves on each parameter).
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from optotrace.llm.run_budget import RunBudget, RunBudgetExhausted
from optotrace.optimizers.contract import CandidateOptimizer, StepResult
from optotrace.optimizers.errors import OptimizerError
from optotrace.optimizers.search.pool import (
    Program,
    choose_parent,
    find_merge,
    merge_values,
    pareto_front,
    values_key,
)
from optotrace.optimizers.train.cycle import propose, reflect
from optotrace.optimizers.train.evaluation import Evaluator
from optotrace.optimizers.train.progress import ScoreProgress
from optotrace.optimizers.train.result import OptimizeResult
from optotrace.optimizers.train.search_run import SearchRun
from optotrace.optimizers.train.selection import failure_feedback, next_minibatch
from optotrace.optimizers.train.setup import candidate_optimizers, named_parameters, run_config

log = logging.getLogger("optotrace.optimizers.search.population")

__all__ = ["GEPA"]


class GEPA:
    def __init__(
        self,
        program: Callable[[Any], Any],
        optimizer: CandidateOptimizer | Sequence[CandidateOptimizer],
        trainset: Sequence[Any],
        valset: Sequence[Any],
        *,
        metric: Callable[[Any, Any], Any],
        budget: RunBudget | int | dict[str, int] | None = None,
        max_iterations: int | None = None,
        minibatch_size: int = 3,
        perfect_score: float = 1.0,
        max_merges: int = 5,
        merge_subsample: int = 5,
        seed: int = 0,
        concurrency: int = 4,
        input_fn: Callable[[Any], Any] | None = None,
        failure_score: float = 0.0,
        run_dir: str | Path | None = None,
        resume: bool = False,
        progress: bool = False,
    ) -> None:
        self.optimizers = candidate_optimizers(optimizer, "GEPA")
        if not trainset or not valset:
            raise OptimizerError("GEPA needs a non-empty trainset (for mutations) and valset (for the front)")
        if budget is None and max_iterations is None:
            raise OptimizerError("give GEPA a budget= (LLM calls or tokens) or max_iterations=, or it never ends")
        self.agent = program
        self.trainset, self.valset = list(trainset), list(valset)
        self.budget = RunBudget.coerce(budget) or RunBudget()
        self.max_iterations = max_iterations
        self.minibatch_size = max(1, min(int(minibatch_size), len(self.trainset)))
        self.perfect_score = perfect_score
        self.max_merges = int(max_merges)
        self.merge_subsample = int(merge_subsample)
        self.rng = random.Random(seed)
        self.seed = seed
        self.progress = progress
        self.named = named_parameters(self.optimizers)
        self.evaluator = Evaluator(program, metric, params=list(self.named.values()), input_fn=input_fn, concurrency=concurrency,
                                   failure_score=failure_score)
        self.programs: list[Program] = []
        self._order: list[int] = []
        self._merges = 0
        self._tried_merges: set[tuple[int, int]] = set()
        self._last_minibatch: float | None = None
        self.run = SearchRun(run_dir, self.named, self.optimizers, run_config(
            "population", self.optimizers, self.trainset, self.valset, self.budget, seed,
            minibatch_size=self.minibatch_size), resume=resume)

    # -- the loop --------------------------------------------------------------------------------------------
    def fit(self) -> OptimizeResult:
        t0 = time.perf_counter()
        stopped = None
        iteration = 0
        bar = ScoreProgress(self.max_iterations or 0, 0, self.progress, "search")
        with self.run.session(self.budget):
            try:
                seed = Program(0, self._current(), val_scores=self.evaluator.scores(self.valset))
                self.programs.append(seed)
                self.run.initial(seed.score)
                merge_due = False
                while True:
                    if self.max_iterations is not None and iteration >= self.max_iterations:
                        stopped = "iterations"
                        break
                    if all(s >= self.perfect_score for s in self._best().val_scores):
                        stopped = "perfect"
                        break
                    iteration += 1
                    before = len(self.programs)
                    if merge_due and self._merges < self.max_merges and self._merge(iteration):
                        merge_due = False
                    else:
                        merge_due = self._mutate(iteration) or merge_due
                    self._record(iteration, before)
                    bar.advance(None, self._best().score, self._best().score)
            except RunBudgetExhausted as exc:
                log.info("search stopped: %s", exc)
                stopped = "budget"
            finally:
                bar.close()
                for opt in self.optimizers:
                    opt.zero_feedback()
        spent, seconds = self.budget.report(), round(time.perf_counter() - t0, 3)
        if not self.programs:  # the budget ran out before the start was even scored
            return self.run.finish(OptimizeResult("population", None, None, self._current(), spent=spent,
                                                  stopped=stopped, seconds=seconds), self.agent)
        best = self._best()
        self._put(best.values)
        details = {"programs": [p.to_json() for p in self.programs], "front": sorted(pareto_front(self.programs)),
                   "iterations": iteration, "best_program": best.id}
        return self.run.finish(OptimizeResult("population", self.programs[0].score, best.score, dict(best.values),
                                              spent=spent, stopped=stopped, seconds=seconds, final_score=best.score,
                                              details=details), self.agent)

    def _record(self, iteration: int, before: int) -> None:
        new = self.programs[before:]
        self.run.record({"step": iteration, "train_score": self._last_minibatch,
                         "val_score": new[-1].score if new else None, "programs": len(self.programs),
                         "kind": new[-1].origin if new else "none"},
                        best_score=self._best().score, best_step=self._best().iteration,
                        spent=self.budget.report())

    def _mutate(self, iteration: int) -> bool:
        """One reflective mutation; True when a new program joined the pool."""
        parent = choose_parent(self.programs, self.rng)
        opt = self.optimizers[(iteration - 1) % len(self.optimizers)]
        batch = self._minibatch()
        self._put(parent.values)
        seen = reflect(self.evaluator, self.optimizers, batch, backward_on="failing",
                       perfect_score=self.perfect_score)
        parent_score = self._last_minibatch = seen.score
        if not seen.failing:
            return False  # nothing to learn from on this minibatch, and nothing can beat it here
        candidates = propose(opt, seen.context(iteration - 1, has_val=False))
        for o in self.optimizers:
            o.zero_feedback()
        scores: list[float | None] = [None] * len(candidates)
        chosen = None
        added = False
        for i, cand in enumerate(candidates):
            if not cand.update:
                continue
            child_values = {**parent.values, **{self._name(p): v for p, v in cand.update.items()}}
            if any(values_key(p.values) == values_key(child_values) for p in self.programs):
                continue
            batch_outcomes = self.evaluator.outcomes(batch, cand.update)
            scores[i] = sum(o.score for o in batch_outcomes) / len(batch_outcomes)
            cand.info["feedback"] = failure_feedback(batch_outcomes)
            cand.info["current_score"] = parent_score
            if scores[i] > parent_score:  # type: ignore[operator]
                val_scores = self.evaluator.scores(self.valset, cand.update)
                self.programs.append(Program(len(self.programs), child_values, (parent.id,), val_scores,
                                             "mutation", iteration))
                chosen, added = chosen or cand, True
        opt.end_step(StepResult(candidates, chosen, scores, parent_score))
        return added

    def _merge(self, iteration: int) -> bool:
        found = find_merge(self.programs, self._tried_merges, self.rng)
        if found is None:
            return False
        a, b, ancestor = found
        self._tried_merges.add((min(a.id, b.id), max(a.id, b.id)))
        self._merges += 1
        values = merge_values(a, b, ancestor)
        if any(values_key(p.values) == values_key(values) for p in self.programs):
            return False
        differ = [i for i, (x, y) in enumerate(zip(a.val_scores, b.val_scores, strict=False)) if x != y]
        self.rng.shuffle(differ)
        sub = sorted(differ[: self.merge_subsample]) or list(range(min(self.merge_subsample, len(self.valset))))
        update = {self.named[n]: v for n, v in values.items()}
        sub_scores = self.evaluator.scores([self.valset[i] for i in sub], update)
        if sum(sub_scores) < max(sum(a.val_scores[i] for i in sub), sum(b.val_scores[i] for i in sub)):
            return False
        val_scores = self.evaluator.scores(self.valset, update)
        self.programs.append(Program(len(self.programs), values, (a.id, b.id), val_scores, "merge", iteration))
        log.info("merge of programs %d and %d scores %.3f", a.id, b.id, self.programs[-1].score)
        return True

    # -- helpers ---------------------------------------------------------------------------------------------
    def _best(self) -> Program:
        return max(self.programs, key=lambda p: (p.score, -p.id))

    def _minibatch(self) -> list[Any]:
        return next_minibatch(self.trainset, self._order, self.minibatch_size, self.rng)

    def _current(self) -> dict[str, Any]:
        return {n: p.data for n, p in self.named.items()}

    def _put(self, values: dict[str, Any]) -> None:
        for n, v in values.items():
            self.named[n].set(v)

    def _name(self, param: Any) -> str:
        for n, p in self.named.items():
            if p is param:
                return n
        raise OptimizerError(f"parameter {param!r} does not belong to this search")
