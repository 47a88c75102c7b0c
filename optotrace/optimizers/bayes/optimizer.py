"""`BayesOpt`: Bayesian optimization of numeric and categorical ParameterNodes, with no LLM.

    bo = BayesOpt([temperature, top_k, strategy], bounds={"temperature": (0, 2), "top_k": (1, 50)},
                  choices={"strategy": ["greedy", "beam"]})
    Trainer(agent, [OptoPrime(prompts, llm=llm), bo], train, val, metric=metric).fit()   # text by the LLM, numbers by BO

The flow with the Trainer (or by hand): the agent runs with the parameters' current values, the score comes back
through `observe(score)` (the Trainer calls it with the minibatch's mean score before each step), and `step()`
records that score for the current point, asks the GP for the next point, and sets it. Scores are maximized;
a metric to minimize is passed as its negative.

Multi-fidelity in the Trainer: `fidelities={batch_size / len(train): 1.0, 1.0: len(val) / batch_size}` and
`evaluate_full=lambda: trainer.evaluate(val)`. Each minibatch score is filed at the cheap fidelity; when the
acquisition asks for the full one, `step()` sets that point and scores it with `evaluate_full()` (at most
`max_full_per_step` times per step), then proposes a point for the next minibatch.

Ask/tell without the Trainer, with multi-fidelity (`fidelities={0.1: 1.0, 1.0: 10.0}`: fraction of the data ->
cost), where the acquisition picks which fidelity each evaluation uses:

    point = bo.ask()                                  # Point(values={...}, fidelity=0.1)
    bo.tell(point, score_on(point.values, fraction=point.fidelity))
    bo.optimize(objective, budget=50)                 # objective(values, fidelity) -> score, same loop
"""

from __future__ import annotations

import importlib.util
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from optotrace.optimizers.base import Optimizer, Proposal
from optotrace.optimizers.bayes.engine import BOEngine
from optotrace.optimizers.bayes.space import Space
from optotrace.optimizers.errors import OptimizerError

log = logging.getLogger("optotrace.optimizers.bayes")

__all__ = ["BayesOpt", "Point"]


@dataclass
class Point:
    values: dict[str, Any]
    fidelity: float = 1.0


class BayesOpt(Optimizer):
    explores = True  # the Trainer's Explorer contract: told the batch score, its points applied as they are

    def __init__(
        self,
        params: Any,
        *,
        bounds: Mapping[str, tuple[float, float]] | None = None,
        choices: Mapping[str, Sequence[Any]] | None = None,
        log_scale: Sequence[str] = (),
        fidelities: Mapping[float, float] | None = None,
        n_init: int = 5,
        n_candidates: int = 1024,
        seed: int = 0,
        evaluate_full: Callable[[], float] | None = None,
        max_full_per_step: int = 2,
    ) -> None:
        super().__init__(params, llm=None)
        if importlib.util.find_spec("botorch") is None:
            raise OptimizerError("BayesOpt needs BoTorch: pip install 'optotrace[bo]'")
        names = [self.names[id(p)] for p in self.params]
        code = [n for n, p in zip(names, self.params, strict=True) if getattr(p, "is_code", False)]
        if code:
            raise OptimizerError(f"{code} hold code; BayesOpt tunes numbers and choices: give code to OptoPrime")
        self.space = Space.from_parameters(names, self.params, bounds, choices, log_scale)
        fids = None
        if fidelities:
            fids = [(float(s), float(c)) for s, c in fidelities.items()]
            if any(not 0 < s <= 1 for s, _ in fids) or any(c <= 0 for _, c in fids) or max(fids)[0] != 1.0:
                raise OptimizerError(
                    f"fidelities must map fractions in (0, 1] to positive costs and include 1.0 (the full "
                    f"evaluation), got {dict(fidelities)}"
                )
        self.engine = BOEngine(self.space.width, self.space.snap, fidelities=fids, n_init=n_init,
                               n_candidates=n_candidates, seed=seed)
        for d in self.space.dims:  # the starting values must lie in the space, or the first score is misfiled
            p = self.by_name[d.name]
            if d.kind != "choice" and not d.low <= float(p.data) <= d.high:
                raise OptimizerError(f"parameter {d.name!r} starts at {p.data}, outside its bounds "
                                     f"({d.low}, {d.high}); start inside or widen the bounds")
        self._score: float | None = None
        self.pending: Point | None = None
        self.evaluate_full = evaluate_full
        self.max_full_per_step = int(max_full_per_step)
        if fids is not None and len(fids) > 2 and evaluate_full is not None:
            raise OptimizerError("in the Trainer's flow BayesOpt takes two fidelities: the minibatch's fraction "
                                 f"and 1.0 (evaluate_full); got {sorted(s for s, _ in fids)}")

    # -- ask / tell --------------------------------------------------------------------------------------------
    def ask(self) -> Point:
        coords, fidelity = self.engine.ask()
        self.pending = Point(self.space.decode(coords), fidelity)
        return self.pending

    def tell(self, point: Point | Mapping[str, Any], score: float, fidelity: float | None = None) -> None:
        values = point.values if isinstance(point, Point) else dict(point)
        if fidelity is None:
            fidelity = point.fidelity if isinstance(point, Point) else 1.0
        missing = [d.name for d in self.space.dims if d.name not in values]
        if missing:
            raise OptimizerError(f"tell() got no values for {missing}; pass the point that ask() returned")
        score = float(score)
        if score != score:
            raise OptimizerError("tell() got a NaN score; report a failed evaluation as a low score")
        self.engine.tell(self.space.encode(values), score, fidelity)
        self.pending = None

    def optimize(self, objective: Callable[..., float], budget: float, *, apply_best: bool = True) -> dict[str, Any]:
        """Ask, evaluate `objective(values)` (or `objective(values, fidelity)` with fidelities), tell, until
        the summed cost reaches `budget` (each evaluation costs 1 without fidelities); the best values."""
        spent = 0.0
        costs = dict(self.engine.fidelities or [(1.0, 1.0)])
        while spent < budget:
            point = self.ask()
            score = objective(point.values, point.fidelity) if self.engine.multi_fidelity else objective(point.values)
            self.tell(point, score)
            spent += costs[point.fidelity]
        best = self.best()
        if apply_best and best is not None:
            self.apply({self.by_name[k]: v for k, v in best.values.items()})
        return best.values if best is not None else {}

    def best(self) -> Point | None:
        found = self.engine.best()
        if found is None:
            return None
        i, _ = found
        return Point(self.space.decode(self.engine.X[i]), self.engine.S[i])

    @property
    def history(self) -> list[dict[str, Any]]:
        return [{"values": self.space.decode(x), "score": y, "fidelity": s}
                for x, y, s in zip(self.engine.X, self.engine.Y, self.engine.S, strict=True)]

    # -- the optimizer surface ------------------------------------------------------------------------------------
    def observe(self, score: float) -> None:
        """The score of the parameters' current values (the Trainer calls this before `step()`)."""
        self._score = float(score)

    def current_values(self) -> dict[str, Any]:
        return {d.name: self.by_name[d.name].data for d in self.space.dims}

    def propose(self, **kwargs: Any) -> Proposal:
        if self._score is None:
            raise OptimizerError(
                "BayesOpt.step() needs the score of the current values first: call observe(score) after running "
                "the agent (the Trainer does this), or use ask()/tell()"
            )
        cheap = self.engine.fidelities[0][0] if self.engine.multi_fidelity else 1.0  # type: ignore[index]
        if self.engine.multi_fidelity and self.evaluate_full is None:
            raise OptimizerError(
                "with fidelities, BayesOpt in the Trainer files each minibatch score at the cheap fidelity and needs "
                "evaluate_full (e.g. lambda: trainer.evaluate(val)) for the expensive one; pass it, or drop "
                "fidelities"
            )
        self.tell(self.current_values(), self._score, cheap)
        self._score = None
        point = self.ask()
        for _ in range(self.max_full_per_step):  # the acquisition wants a full evaluation: do it here
            if point.fidelity == cheap or self.evaluate_full is None:
                break
            self.apply({self.by_name[k]: v for k, v in point.values.items()})
            self.tell(point, float(self.evaluate_full()), 1.0)
            point = self.ask()
        return Proposal(values=point.values, via="bayes", names=list(point.values))

    def update(self, proposal: Proposal | Mapping[str, Any]) -> dict[Any, Any]:
        values = proposal.values if isinstance(proposal, Proposal) else dict(proposal)
        return self.apply({self.by_name[k]: v for k, v in values.items()})  # in the space by construction

    def _extra_state(self) -> dict[str, Any]:
        return {
            "space": self.space.to_json(),
            "engine": self.engine.state(),
            "observed": self._score,
            "pending": None if self.pending is None else {"values": self.pending.values,
                                                          "fidelity": self.pending.fidelity},
        }

    def _load_extra_state(self, state: Mapping[str, Any]) -> None:
        if state.get("space") is not None and state["space"] != self.space.to_json():
            raise OptimizerError("this BayesOpt state was saved over a different search space (bounds, choices "
                                 "or log scales differ); build the optimizer with the same settings")
        self.engine.load(dict(state.get("engine", {})))
        self._score = state.get("observed")
        pending = state.get("pending")
        self.pending = Point(dict(pending["values"]), float(pending["fidelity"])) if pending else None
