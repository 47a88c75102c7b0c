"""Propose, then race: many candidates from reflective proposals and demonstrations, chosen by successive
halving on the validation set (racing.py). Built for small budgets and small models, where a loop that spends
a full validation pass on every proposal sees only two or three of them.

    result = ProposeRace(program, [OptoPrime([instruction], llm=llm), BootstrapFewShot(examples, labeled=pairs)],
                         trainset, valset, metric=metric, budget=60).fit()

1. Proposals: a few rounds, each on a fresh training minibatch: the workflow runs traced, the failing examples'
   outputs get `backward(feedback)`, and each text/code optimizer (OptoPrime, OPRO, TextGrad) proposes from
   those subgraphs and feedback. Every successful run is pooled as a demonstration.
2. Demonstrations: each BootstrapFewShot proposes subsets of its pool (bootstrapped runs and labeled pairs).
3. Race: all candidates and the current values on the validation set; the winner must beat the current values
   on the same examples by `min_lead` examples' worth (racing.py: a lead of one example is noise).
4. Combine: when the winner changed only some parameters, the candidates that changed the others race again
   with the winner in place (the winner is the incumbent), so an instruction and demos that each help are
   found together.
5. Refine: while the calls left can race at least two more candidates, one more proposal round runs with the
   chosen values in place (proposals from their failures) and its candidates, with new demo subsets, race
   against them. A candidate is never raced twice.

The budget (LLM calls or tokens, workflow runs and proposals alike) is kept exactly: with a call budget, about
`proposal_share` of it goes to proposals and the rest to the races; refinement cycles spend what the races
leave. What was spent is in the result.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from optotrace.llm.run_budget import RunBudget, RunBudgetExhausted
from optotrace.optimizers.contract import CandidateOptimizer, DemoHarvester, StepResult
from optotrace.optimizers.errors import OptimizerError
from optotrace.optimizers.search.racing import MIN_LEAD, affordable, race
from optotrace.optimizers.train.cycle import propose, reflect
from optotrace.optimizers.train.evaluation import Evaluator
from optotrace.optimizers.train.progress import ScoreProgress
from optotrace.optimizers.train.result import OptimizeResult
from optotrace.optimizers.train.search_run import SearchRun
from optotrace.optimizers.train.selection import next_minibatch
from optotrace.optimizers.train.setup import candidate_optimizers, named_parameters, run_config

log = logging.getLogger("optotrace.optimizers.search.propose_race")

__all__ = ["ProposeRace"]

RACE_SHARE = 0.75  # of the calls left after the proposals: the first race; the rest: the combining race


@dataclass
class RaceLog:
    """What the race found as it went: the incumbent's and the winner's scores, every candidate raced
    ({"source", "params", "score", "examples"}), the chosen candidate's source ("current": nothing beat the start)."""

    initial_score: float | None = None
    best_score: float | None = None  # the chosen values' mean on the examples they were compared on
    candidates: list[dict[str, Any]] = field(default_factory=list)
    chosen: str = "current"
    stopped: str | None = None


class ProposeRace:
    def __init__(
        self,
        program: Callable[[Any], Any],
        optimizer: CandidateOptimizer | Sequence[CandidateOptimizer],
        trainset: Sequence[Any],
        valset: Sequence[Any],
        *,
        metric: Callable[[Any, Any], Any],
        budget: RunBudget | int | dict[str, int] | None = None,
        rounds: int | None = None,
        minibatch_size: int = 4,
        demo_candidates: int | None = None,
        proposal_share: float = 0.35,
        seed: int = 0,
        concurrency: int = 4,
        input_fn: Callable[[Any], Any] | None = None,
        min_lead: float = MIN_LEAD,
        run_dir: str | Path | None = None,
        resume: bool = False,
        progress: bool = False,
    ) -> None:
        self.optimizers = candidate_optimizers(optimizer, "ProposeRace")
        if not trainset or not valset:
            raise OptimizerError("ProposeRace needs a non-empty trainset (for proposals) and valset (for the race)")
        self.budget = RunBudget.coerce(budget) or RunBudget()
        if rounds is None and self.budget.remaining_calls() is None:
            raise OptimizerError("give ProposeRace a call budget (budget=60) or rounds=, to size the proposals")
        self.trainset, self.valset = list(trainset), list(valset)
        self.minibatch_size = max(1, min(int(minibatch_size), len(self.trainset)))
        self.proposal_share = min(max(float(proposal_share), 0.0), 0.9)
        self.rounds = rounds
        self.demo_candidates = demo_candidates
        self.rng = random.Random(seed)
        self.min_lead = float(min_lead)
        self.named = named_parameters(self.optimizers)
        self.agent = program
        self.evaluator = Evaluator(program, metric, params=list(self.named.values()), input_fn=input_fn, concurrency=concurrency)
        self.proposers = [o for o in self.optimizers if not isinstance(o, DemoHarvester)]
        self.bootstrappers = [o for o in self.optimizers if isinstance(o, DemoHarvester)]
        self.progress = progress
        self.run = SearchRun(run_dir, self.named, self.optimizers, run_config(
            "race", self.optimizers, self.trainset, self.valset, self.budget, seed,
            minibatch_size=self.minibatch_size, min_lead=self.min_lead), resume=resume)
        self._order: list[int] = []
        self._round_no = 0
        self._raced: set[str] = set()  # every update raced so far (a cycle does not race one twice)

    def fit(self) -> OptimizeResult:
        t0 = time.perf_counter()
        start = {n: p.data for n, p in self.named.items()}
        result = RaceLog()
        candidates: list[tuple[str, dict[Any, Any]]] = []
        bar = ScoreProgress(0, 0, self.progress, "race")
        with self.run.session(self.budget):
            try:
                for _ in range(self._rounds()):
                    self._propose_round(candidates)
                candidates = _distinct(candidates + self._demo_subsets(self._demo_count(len(candidates))))
                self._raced = {_key(u) for _, u in candidates}
                self._race(candidates, result)
                self._record("race", result, bar)
                while not result.stopped and self._cycle_fits():
                    if not self._cycle(result):
                        break
                    self._record("refinement", result, bar)
            except RunBudgetExhausted as exc:
                log.info("propose-and-race stopped: %s", exc)
                result.stopped = "budget"
            finally:
                bar.close()
                for opt in self.optimizers:
                    opt.zero_feedback()
        best_values = {n: p.data for n, p in self.named.items()}
        details = {"candidates": result.candidates, "chosen": result.chosen, "start_values": start}
        return self.run.finish(OptimizeResult(
            "race", result.initial_score, result.best_score, best_values, spent=self.budget.report(),
            stopped=result.stopped, seconds=round(time.perf_counter() - t0, 3), final_score=result.best_score,
            details=details), self.agent)

    def _record(self, kind: str, result: RaceLog, bar: ScoreProgress) -> None:
        if self.run.state["initial_val_score"] is None:
            self.run.initial(result.initial_score)
        self.run.record({"step": len(self.run.state["history"]) + 1, "kind": kind, "val_score": result.best_score,
                         "chosen": result.chosen, "raced": len(result.candidates)},
                        best_score=result.best_score, best_step=len(self.run.state["history"]) + 1,
                        spent=self.budget.report())
        bar.advance(None, result.best_score, result.best_score)

    # -- 1. proposals ----------------------------------------------------------------------------------------
    def _rounds(self) -> int:
        if not (self.proposers or self.bootstrappers):
            return 0
        if self.rounds is not None:
            return self.rounds
        # as many as the share allows, but at most half the candidates the race can take
        calls = self.budget.remaining_calls() or 0
        racing = affordable(int(calls * (1 - self.proposal_share) * RACE_SHARE), len(self.valset))
        return max(1, min(int(calls * self.proposal_share) // self._round_cost(), racing // 2))

    def _round_cost(self) -> int:
        return self.minibatch_size + sum(getattr(o, "num_candidates", 1) for o in self.proposers)

    def _propose_round(self, candidates: list[tuple[str, dict[Any, Any]]]) -> None:
        """One minibatch with the current values: successful runs are pooled as demos, the failures get
        `backward(feedback)` and each proposer proposes from them."""
        r, self._round_no = self._round_no, self._round_no + 1
        seen = reflect(self.evaluator, self.optimizers, self._minibatch(), backward_on="failing")
        if not seen.failing or not self.proposers:
            return
        context = seen.context(r, has_val=True)
        for opt in self.proposers:
            proposed = propose(opt, context)
            candidates += [(type(opt).__name__.lower(), c.update) for c in proposed if c.update]
            opt.end_step(StepResult(proposed, None, [None] * len(proposed), seen.score))

    def _demo_subsets(self, count: int) -> list[tuple[str, dict[Any, Any]]]:
        out = []
        for b in self.bootstrappers:
            b.num_candidates = count
            proposed = b.propose_candidates(None)
            out += [("demos", c.update) for c in proposed if c.update]
            b.end_step(StepResult(proposed, None, [None] * len(proposed), None))  # the next draw differs
        return out

    def _demo_count(self, proposed: int) -> int:
        if self.demo_candidates is not None:
            return max(1, self.demo_candidates)
        calls = self.budget.remaining_calls()
        room = 8 if calls is None else affordable(int(calls * RACE_SHARE), len(self.valset))
        return max(2, room - proposed) // max(1, len(self.bootstrappers))

    # -- 5. refinement cycles with what is left ----------------------------------------------------------------
    def _cycle_fits(self) -> bool:
        calls = self.budget.remaining_calls()
        if calls is None:
            return False  # a token-only budget: no way to size a cycle, so the first race is the search
        return affordable(calls, len(self.valset), incumbent_scored=True) >= 1

    def _cycle(self, result: RaceLog) -> bool:
        """One more proposal round from the chosen values' failures (when the calls left can race two of its
        candidates), and new demo subsets, raced against the chosen values; whether anything new was raced."""
        fresh: list[tuple[str, dict[Any, Any]]] = []
        calls = self.budget.remaining_calls() or 0
        if self.proposers and affordable(calls - self._round_cost(), len(self.valset), incumbent_scored=True) >= 2:
            self._propose_round(fresh)
        room = affordable(self.budget.remaining_calls() or 0, len(self.valset), incumbent_scored=True)
        fresh += self._demo_subsets(max(1, room - len(fresh)))
        current = {p: p.data for p in self.named.values()}
        fresh = [(s, u) for s, u in _distinct(fresh)
                 if _key(u) not in self._raced and any(repr(v) != repr(current[p]) for p, v in u.items())][:room]
        if not fresh:
            return False
        self._raced |= {_key(u) for _, u in fresh}
        raced = race(self.evaluator, [u for _, u in fresh], self.valset, min_lead=self.min_lead)
        result.stopped = raced.stopped
        for r in raced.scored:
            result.candidates.append({"source": fresh[r["candidate"]][0], "score": r["score"],
                                      "params": sorted(self._name(p) for p in fresh[r["candidate"]][1]),
                                      "examples": r["examples"], "cycle": True})
        if raced.best is None:
            return True
        source, update = fresh[raced.best]
        self._apply(update)
        result.best_score = raced.best_score
        result.chosen = source if result.chosen == "current" else f"{result.chosen}>{source}"
        return True

    # -- 3./4. the race and the combination ------------------------------------------------------------------
    def _race(self, candidates: list[tuple[str, dict[Any, Any]]], result: RaceLog) -> None:
        log.info("racing %d candidates on %d validation examples", len(candidates), len(self.valset))
        raced = race(self.evaluator, [u for _, u in candidates], self.valset, min_lead=self.min_lead)
        result.initial_score = raced.incumbent_score
        result.best_score = raced.best_score
        result.stopped = raced.stopped
        last: dict[int, tuple[int, float]] = {}
        for r in raced.scored:
            last[r["candidate"]] = (r["examples"], r["score"])
        result.candidates = [{"source": s, "params": sorted(self._name(p) for p in u),
                              "score": last.get(i, (0, None))[1], "examples": last.get(i, (0, None))[0]}
                             for i, (s, u) in enumerate(candidates)]
        if raced.best is None:
            return
        source, winner = candidates[raced.best]
        result.chosen = source
        self._apply(winner)
        if raced.stopped:
            return
        self._combine(candidates, raced.best, last, result)

    def _combine(self, candidates: list[tuple[str, dict[Any, Any]]], best: int,
                 last: dict[int, tuple[int, float]], result: RaceLog) -> None:
        """A second race with the winner in place: the candidates that changed other parameters (those that went
        furthest and scored best first, as many as the rest of the budget can race) against the winner."""
        source, winner = candidates[best]
        others = [i for i in last if i != best and not set(candidates[i][1]) & set(winner)]
        if not others:
            return
        calls = self.budget.remaining_calls()
        room = len(others) if calls is None else affordable(calls, len(self.valset))
        others = sorted(others, key=lambda i: (-last[i][0], -last[i][1], i))[: min(room, 6)]
        if not others:
            return
        raced = race(self.evaluator, [candidates[i][1] for i in others], self.valset, min_lead=self.min_lead)
        result.stopped = raced.stopped
        for r in raced.scored:
            i = others[r["candidate"]]
            result.candidates.append({"source": f"{source}+{candidates[i][0]}",
                                      "params": sorted(self._name(p) for p in {**winner, **candidates[i][1]}),
                                      "score": r["score"], "examples": r["examples"]})
        if raced.best is not None:
            partner_source, partner = candidates[others[raced.best]]
            self._apply(partner)
            result.best_score, result.chosen = raced.best_score, f"{source}+{partner_source}"

    # -- helpers ---------------------------------------------------------------------------------------------
    def _apply(self, update: Mapping[Any, Any]) -> None:
        for opt in self.optimizers:
            mine = {p: v for p, v in update.items() if any(p is q for q in opt.params)}
            if mine:
                opt.apply(mine)

    def _minibatch(self) -> list[Any]:
        return next_minibatch(self.trainset, self._order, self.minibatch_size, self.rng)

    def _name(self, param: Any) -> str:
        return next((n for n, p in self.named.items() if p is param), repr(param))


def _key(update: Mapping[Any, Any]) -> str:
    import json

    return json.dumps(sorted((id(p), repr(v)) for p, v in update.items()))


def _distinct(candidates: list[tuple[str, dict[Any, Any]]]) -> list[tuple[str, dict[Any, Any]]]:
    seen: set[str] = set()
    out = []
    for source, update in candidates:
        key = _key(update)
        if key not in seen:
            seen.add(key)
            out.append((source, update))
    return out

