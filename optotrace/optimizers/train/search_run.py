"""The run directory of a whole-run search (population, propose-and-race, demos), in the Trainer's format, so
that `runs show`, `runs report` and MLflow read every strategy's runs alike; and its resume.

    run = SearchRun(run_dir, named, optimizers, config, resume=resume)
    with run.session(budget):                    # the budget and the reply journal, active
        run.record({"step": 1, "train_score": 0.5, "val_score": 0.6, ...}, best_score=0.6, best_step=1)
    run.finish(result, program)

Resume replays: a search's state is spread over its pool, its races and its random draws, so instead of
saving each, a resumed run starts again from the saved start values with the same seed, and the reply journal
(llm/journal.py, `replies.sqlite` here) answers every request the killed run already made, budget counted as
before. The run therefore goes on exactly where the killed one stopped, having paid nothing twice.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

from optotrace.llm.journal import ReplyJournal
from optotrace.llm.run_budget import RunBudget
from optotrace.optimizers.errors import TrainerError
from optotrace.optimizers.train.checkpoints import Checkpoints, short
from optotrace.optimizers.train.result import OptimizeResult

log = logging.getLogger("optotrace.optimizers.train.search_run")

__all__ = ["JOURNAL_FILE", "SearchRun"]

JOURNAL_FILE = "replies.sqlite"


class SearchRun:
    def __init__(self, run_dir: str | Path | None, named: Mapping[str, Any], optimizers: Sequence[Any],
                 config: dict[str, Any], *, resume: bool = False) -> None:
        self.checkpoints = Checkpoints(run_dir, named, optimizers) if run_dir is not None else None
        self.named = named
        self.config = {**config, "parameters": list(named)}
        self.resume = resume
        self.state: dict[str, Any] = {"step": 0, "best_score": None, "best_step": 0, "initial_val_score": None,
                                      "history": [], "optimizers": [], "stopped": None, "spent": {}}
        self.replayed = 0

    @property
    def dir(self) -> Path | None:
        return self.checkpoints.dir if self.checkpoints is not None else None

    @contextmanager
    def session(self, budget: RunBudget) -> Iterator[SearchRun]:
        """The budget active, and in a run directory the reply journal; a resumed run restarts from its start
        values."""
        with ExitStack() as stack:
            stack.enter_context(budget.active())
            if self.checkpoints is not None:
                self._start()
                journal = stack.enter_context(ReplyJournal(self.checkpoints.dir / JOURNAL_FILE).active())
                try:
                    yield self
                finally:
                    self.replayed = journal.replayed
                    if journal.replayed:
                        log.info("resumed %s: %d replies replayed from the journal", self.dir, journal.replayed)
                return
            yield self

    def _start(self) -> None:
        assert self.checkpoints is not None
        store = self.checkpoints.store
        saved = store.load_state() if self.resume else None
        if saved is None:
            if not self.resume:
                store.clear()
            store.write_json("config.json", self.config)
            self.checkpoints.save_params(0)
            return
        config = store.read_json("config.json")
        names = config.get("parameters") if isinstance(config, dict) else None
        if isinstance(names, list) and sorted(names) != sorted(self.named):
            raise TrainerError(f"the run in {store.dir} optimized the parameters {names}, this one has "
                               f"{list(self.named)}: resume it with the same workflow, or choose another run "
                               "directory")
        if isinstance(config, dict) and config.get("strategy") != self.config.get("strategy"):
            raise TrainerError(f"the run in {store.dir} ran strategy {config.get('strategy')!r}, not "
                               f"{self.config.get('strategy')!r}; resume it with the same strategy")
        self.checkpoints.load_params(0)  # the replay starts where the killed run started

    def initial(self, score: float | None) -> None:
        self.state["initial_val_score"] = self.state["best_score"] = score

    def record(self, record: dict[str, Any], *, best_score: float | None, best_step: int,
               spent: dict[str, Any]) -> None:
        """One finished iteration: its record, the parameters now in place, the optimizers' states."""
        record = {"train_score": None, "val_score": None, **record, "best_score": best_score,
                  "best_step": best_step}
        self.state.update(step=record["step"], best_score=best_score, best_step=best_step, spent=spent)
        self.state["history"].append(record)
        if self.checkpoints is not None:
            self.checkpoints.write_step(self.state, record)

    def finish(self, result: OptimizeResult, program: Any) -> OptimizeResult:
        result.run_dir = self.dir
        result.history = list(self.state["history"])
        result.steps = int(self.state["step"])
        if self.checkpoints is None:
            return result
        self.state.update(stopped=result.stopped, spent=result.spent, best_score=result.best_score)
        if result.best_values:  # the best values are in place: the last params file holds them
            self.checkpoints.save_params(result.steps)
        self.state["best_step"] = result.best_step = result.steps
        self.checkpoints.write_summary(self.state, program, result.best_score, result.seconds)
        self.checkpoints.store.write_json("details.json", {k: _jsonable(v) for k, v in result.details.items()})
        return result


def _jsonable(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_jsonable(v) for v in value]
    return short(value, 2000)
