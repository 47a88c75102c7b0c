"""The demos strategy: few-shot demonstrations only, no instruction proposals (DSPy's BootstrapFewShot with
random search, raced).

    result = DemoSearch(program, [examples], trainset, valset, metric=metric, budget=60,
                        label=lambda ex: ex["target"]).fit()

Pool demonstrations, race subsets of them on `valset` against the current demos (successive halving,
racing.py), and leave each Demos parameter set to the winner (the current demos stay unless a subset beats
them). The pool: the program's successful runs on (the first `max_bootstrap` of) `trainset`, and, given
`label(example) -> answer`, every training example as a labeled pair (its input, its known answer), which
costs no model call. With a call budget and no `max_bootstrap`, bootstrapping runs at most a third of the
budget's calls when labels are given (labeled pairs fill the rest), and `num_subsets` (default) is as many as
the rest of the budget can race. Training examples whose input is also in `valset` are left out, so that no
demo answers an example it is scored on.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from optotrace.llm.run_budget import RunBudget, RunBudgetExhausted
from optotrace.optimizers.errors import OptimizerError
from optotrace.optimizers.fewshot import BootstrapFewShot, plain_value, value_key
from optotrace.optimizers.search.racing import MIN_LEAD, affordable, race
from optotrace.optimizers.train.cycle import reflect
from optotrace.optimizers.train.evaluation import Evaluator
from optotrace.optimizers.train.result import OptimizeResult
from optotrace.optimizers.train.search_run import SearchRun
from optotrace.optimizers.train.setup import named_parameters, run_config
from optotrace.trace import Demos

__all__ = ["DemoSearch"]


class DemoSearch:
    def __init__(
        self,
        program: Callable[[Any], Any],
        demos: Demos | Sequence[Demos],
        trainset: Sequence[Any],
        valset: Sequence[Any],
        *,
        metric: Callable[[Any, Any], Any],
        budget: RunBudget | int | dict[str, int] | None = None,
        max_demos: int | None = None,
        num_subsets: int | None = None,
        min_score: float = 1.0,
        seed: int = 0,
        concurrency: int = 4,
        input_fn: Callable[[Any], Any] | None = None,
        label: Callable[[Any], Any] | None = None,
        max_bootstrap: int | None = None,
        min_lead: float = MIN_LEAD,
        run_dir: str | Path | None = None,
        resume: bool = False,
    ) -> None:
        params = [demos] if isinstance(demos, Demos) else list(demos)
        if not params or not all(isinstance(d, Demos) for d in params):
            raise OptimizerError("the demos strategy needs Demos parameters (ot.demos(...)) to fill")
        if not valset:
            raise OptimizerError("the demos strategy needs a validation set to choose demos by; pass valset=")
        self.agent = program
        self.budget = RunBudget.coerce(budget) or RunBudget()
        self.evaluator = Evaluator(program, metric, params=params, input_fn=input_fn, concurrency=concurrency)
        self.valset = list(valset)
        scored_on = {value_key(plain_value(self.evaluator.input_fn(e))) for e in self.valset}
        self.trainset = [e for e in trainset if value_key(plain_value(self.evaluator.input_fn(e))) not in scored_on]
        self.label = label
        self.num_subsets, self.max_bootstrap, self.min_lead = num_subsets, max_bootstrap, float(min_lead)
        self.optimizers = [BootstrapFewShot(d, max_demos=max_demos, num_candidates=1, min_score=min_score,
                                            seed=seed, labeled=self._labeled()) for d in params]
        self.named = named_parameters(self.optimizers)
        self.run = SearchRun(run_dir, self.named, self.optimizers, run_config(
            "demos", self.optimizers, self.trainset, self.valset, self.budget, seed), resume=resume)

    def _labeled(self) -> list[dict[str, Any]]:
        if self.label is None:
            return []
        return [{"input": plain_value(self.evaluator.input_fn(e)), "output": plain_value(self.label(e))}
                for e in self.trainset]

    def fit(self) -> OptimizeResult:
        t0 = time.perf_counter()
        initial = best = None
        tried: list[dict[str, Any]] = []
        stopped = None
        with self.run.session(self.budget):
            try:
                initial = best = self.evaluator.mean(self.valset)
                self.run.initial(initial)
                runs = self._bootstrap_runs()
                if runs:
                    seen = reflect(self.evaluator, self.optimizers, self.trainset[:runs], backward_on="none")
                    self.run.record({"step": 1, "kind": "bootstrap", "train_score": seen.score},
                                    best_score=best, best_step=0, spent=self.budget.report())
                candidates = self._subsets()
                raced = race(self.evaluator, candidates, self.valset, min_lead=self.min_lead)
                stopped = raced.stopped
                tried = [{"sizes": [len(v) for v in candidates[r["candidate"]].values()], "score": r["score"],
                          "examples": r["examples"]} for r in raced.scored]
                if raced.best is not None:
                    for opt in self.optimizers:
                        opt.apply({p: v for p, v in candidates[raced.best].items() if p is opt.demos})
                    best = raced.best_score
                self.run.record({"step": len(self.run.state["history"]) + 1, "kind": "race", "val_score": best,
                                 "raced": len(candidates)}, best_score=best,
                                best_step=len(self.run.state["history"]) + 1, spent=self.budget.report())
            except RunBudgetExhausted:
                stopped = "budget"
        details = {"tried": tried, "pool": sum(len(o.pool) for o in self.optimizers),
                   "labeled": sum(len(o.labeled) for o in self.optimizers)}
        return self.run.finish(OptimizeResult(
            "demos", initial, best, {n: p.data for n, p in self.named.items()}, spent=self.budget.report(),
            stopped=stopped, seconds=round(time.perf_counter() - t0, 3), final_score=best, details=details),
            self.agent)

    def _bootstrap_runs(self) -> int:
        runs = len(self.trainset) if self.max_bootstrap is None else max(0, int(self.max_bootstrap))
        calls = self.budget.remaining_calls()
        if self.max_bootstrap is None and calls is not None and self.label is not None:
            runs = min(runs, calls // 3)
        return runs

    def _subsets(self) -> list[dict[Any, Any]]:
        """Candidate updates: each draws a subset for every Demos parameter (one race covers them together)."""
        left = self.budget.remaining_calls()
        wanted = self.num_subsets if self.num_subsets is not None else (
            8 if left is None else min(16, affordable(left, len(self.valset))))
        per_param = []
        for opt in self.optimizers:
            opt.num_candidates = max(1, wanted)
            per_param.append([c.update for c in opt.propose_candidates(None)])
        out = []
        for i in range(max((len(c) for c in per_param), default=0)):
            update = {p: v for cands in per_param if i < len(cands) for p, v in cands[i].items()}
            if update:
                out.append(update)
        return out
