"""`ParetoSearch`: multi-objective search (NSGA-II on torch tensors) over numeric and categorical ParameterNodes.

    search = ParetoSearch([threshold, top_k, strategy], objectives={"accuracy": "max", "tokens": "min"},
                          bounds={"threshold": (0, 1), "top_k": (1, 20)}, choices={"strategy": [...]},
                          measures={"tokens": tokens_since_last_call})
    Trainer(agent, search, train, metric=metric, steps=200).fit()
    search.report("runs/front")            # front.json (parameters and scores of each point) and front.png

One Trainer step evaluates one individual: the agent runs with the parameters' current values, `observe(score)`
gives the first objective (the Trainer's minibatch score) and each `measures[name]()` is read for the others
(or `observe({"accuracy": .., "tokens": ..})` gives them all); `step()` files them and sets the next individual.
A generation is told to NSGA-II once all of its individuals have scores. Without the Trainer:
`optimize(evaluate, evaluations)` with `evaluate(values) -> {objective: score}`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import torch

from optotrace.optimizers.base import Optimizer, Proposal
from optotrace.optimizers.bayes.space import Space
from optotrace.optimizers.errors import OptimizerError
from optotrace.optimizers.evolution.nsga2 import NSGA2
from optotrace.optimizers.evolution.report import write_front_report

__all__ = ["ParetoSearch"]


class ParetoSearch(Optimizer):
    explores = True  # the Trainer's Explorer contract: told the batch score, its points applied as they are

    def __init__(
        self,
        params: Any,
        *,
        objectives: Mapping[str, str],
        bounds: Mapping[str, tuple[float, float]] | None = None,
        choices: Mapping[str, Sequence[Any]] | None = None,
        log_scale: Sequence[str] = (),
        measures: Mapping[str, Callable[[], float]] | None = None,
        pop_size: int = 20,
        seed: int = 0,
        device: str = "cpu",
    ) -> None:
        super().__init__(params, llm=None)
        if len(objectives) < 2:
            raise OptimizerError(f"ParetoSearch needs two or more objectives, got {list(objectives)}; for one "
                                 "score use BayesOpt")
        bad = {k: v for k, v in objectives.items() if v not in ("min", "max")}
        if bad:
            raise OptimizerError(f"each objective is 'min' or 'max', got {bad}")
        self.objectives = dict(objectives)
        self.measures = dict(measures or {})
        unknown = set(self.measures) - set(self.objectives)
        if unknown:
            raise OptimizerError(f"measures {sorted(unknown)} are not objectives {list(self.objectives)}")
        names = [self.names[id(p)] for p in self.params]
        self.space = Space.from_parameters(names, self.params, bounds, choices, log_scale)
        self.engine = NSGA2(self.space.width, pop_size, device=device, seed=seed)
        self.archive: list[dict[str, Any]] = []  # every evaluated point: values and scores
        self._queue: list[list[float]] = []  # the generation still to evaluate
        self._batch: list[tuple[list[float], list[float]]] = []  # its evaluated members
        self._observed: dict[str, float] | None = None
        self._drawn = False  # a generation was drawn and is being evaluated

    # -- the rows NSGA-II sees: every objective minimized -------------------------------------------------------
    def _row(self, scores: Mapping[str, float]) -> list[float]:
        missing = [k for k in self.objectives if k not in scores]
        if missing:
            raise OptimizerError(f"no score for objectives {missing}; give every one of {list(self.objectives)} "
                                 "(observe a dict, or pass measures=)")
        return [float(scores[k]) if d == "min" else -float(scores[k]) for k, d in self.objectives.items()]

    def _next(self) -> list[float]:
        if not self._queue:
            pop = self.engine.ask()
            self._queue = self.space.snap(pop.cpu()).tolist()
            self._drawn = True
        return self._queue.pop(0)

    def _record(self, coords: list[float], scores: Mapping[str, float]) -> None:
        row = self._row(scores)
        self.archive.append({"values": self.space.decode(coords), "scores": {k: float(scores[k]) for k in self.objectives}})
        self._batch.append((coords, row))
        if self._drawn and not self._queue:  # the generation is complete (a starting point joins the first)
            X = torch.tensor([c for c, _ in self._batch], dtype=torch.float64)
            F = torch.tensor([r for _, r in self._batch], dtype=torch.float64)
            self.engine.tell(X, F)
            self._batch, self._drawn = [], False

    def optimize(self, evaluate: Callable[[dict[str, Any]], Mapping[str, float]], evaluations: int) -> list[dict[str, Any]]:
        """Evaluate `evaluations` points (whole generations are told as they complete); the front."""
        for _ in range(int(evaluations)):
            coords = self._next()
            self._record(coords, evaluate(self.space.decode(coords)))
        return self.front()

    def front(self) -> list[dict[str, Any]]:
        """The non-dominated points among everything evaluated, sorted by the first objective."""
        from optotrace.optimizers.evolution.pareto import non_dominated_rank

        if not self.archive:
            return []
        F = torch.tensor([self._row(p["scores"]) for p in self.archive], dtype=torch.float64)
        rank = non_dominated_rank(F)
        seen, out = set(), []
        for i in torch.nonzero(rank == 0).flatten().tolist():
            key = repr(self.archive[i])
            if key not in seen:
                seen.add(key)
                out.append(self.archive[i])
        first = next(iter(self.objectives))
        return sorted(out, key=lambda p: p["scores"][first])

    def report(self, out_dir: str | Path) -> dict[str, Path]:
        front = self.front()
        if not front:
            raise OptimizerError("nothing has been evaluated yet, so there is no front to report")
        return write_front_report(front, list(self.objectives), out_dir)

    # -- the Trainer's surface ------------------------------------------------------------------------------------
    def observe(self, score: float | Mapping[str, float]) -> None:
        scores = dict(score) if isinstance(score, Mapping) else {next(iter(self.objectives)): float(score)}
        for name, measure in self.measures.items():
            if name not in scores:
                scores[name] = float(measure())
        self._observed = scores

    def propose(self, **kwargs: Any) -> Proposal:
        if self._observed is None:
            raise OptimizerError("ParetoSearch.step() needs the scores of the current values first: call "
                                 "observe(...) after running the agent (the Trainer does this)")
        current = self.space.encode({d.name: self.by_name[d.name].data for d in self.space.dims})
        self._record(current, self._observed)
        self._observed = None
        coords = self._next()
        values = self.space.decode(coords)
        return Proposal(values=values, via="nsga2", names=list(values))

    def update(self, proposal: Proposal | Mapping[str, Any]) -> dict[Any, Any]:
        values = proposal.values if isinstance(proposal, Proposal) else dict(proposal)
        return self.apply({self.by_name[k]: v for k, v in values.items()})

    def _extra_state(self) -> dict[str, Any]:
        return {"objectives": self.objectives, "space": self.space.to_json(), "engine": self.engine.state(),
                "archive": self.archive, "queue": self._queue, "batch": self._batch, "observed": self._observed,
                "drawn": self._drawn}

    def _load_extra_state(self, state: Mapping[str, Any]) -> None:
        if state.get("space") not in (None, self.space.to_json()) or state.get("objectives") not in (
                None, self.objectives):
            raise OptimizerError("this ParetoSearch state was saved with other objectives or another search "
                                 "space; build the optimizer with the same settings")
        self.engine.load(dict(state.get("engine", {})))
        self.archive = list(state.get("archive", []))
        self._queue = [list(c) for c in state.get("queue", [])]
        self._batch = [(list(c), list(r)) for c, r in state.get("batch", [])]
        self._observed = state.get("observed")
        self._drawn = bool(state.get("drawn", False))
