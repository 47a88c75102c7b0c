"""Running a workflow on examples and scoring it: what the Trainer and the search share.

`Evaluator(agent, metric)` calls `agent(input_fn(example))` for each example on at most `concurrency` threads
(each in a copy of the caller's context, so each traces its own graph and stays under the caller's run budget),
scores the output with `metric(example, output) -> score | (score, feedback)`, and records a failure (a
crashing workflow or metric) as the example's outcome with `failure_score`, never as a crash of the run.

`scores(examples, update)` runs the examples with `update` ({param: value}) put in place and then taken back,
and remembers each example's score for the parameters' values it ran with, so the same values are never
paid for twice on the same example (the search re-scores parents and the current values often). The workflow
is assumed to give the same score to the same values; pass `cache_scores=False` when it does not.

Under a run budget (llm/run_budget.py), a batch in which any workflow call was refused raises
RunBudgetExhausted once every example has finished: a partly refused batch is never taken as a score.
"""

from __future__ import annotations

import contextvars
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from optotrace.llm.run_budget import RunBudgetExhausted, active_budget, budget_phase

__all__ = ["Evaluator", "ExampleResult", "default_input"]

Metric = Callable[[Any, Any], Any]


@dataclass
class ExampleResult:
    """One example's run: the output (node or value), its score and feedback, and the error if it failed."""

    example: Any
    output: Any = None
    score: float = 0.0
    feedback: Any = ""
    error: str | None = None
    error_node: Any = None


def default_input(example: Any) -> Any:
    """`example["input"]` for a dict with that key, `example[0]` for a pair, else the example itself."""
    if isinstance(example, dict) and "input" in example:
        return example["input"]
    if isinstance(example, tuple) and len(example) == 2:
        return example[0]
    return example


class Evaluator:
    def __init__(
        self,
        agent: Callable[[Any], Any],
        metric: Metric,
        *,
        params: Sequence[Any] = (),
        input_fn: Callable[[Any], Any] | None = None,
        concurrency: int = 4,
        failure_score: float = 0.0,
        cache_scores: bool = True,
    ) -> None:
        self.agent = agent
        self.metric = metric
        self.params = list(params)
        self.input_fn = input_fn or default_input
        self.concurrency = max(1, int(concurrency))
        self.failure_score = failure_score
        self.cache_scores = cache_scores
        self._scores: dict[tuple[str, str], ExampleResult] = {}
        self.runs = 0  # workflow calls made (cached scores excluded)

    # -- one example ------------------------------------------------------------------------------------------
    def run_one(self, example: Any) -> ExampleResult:
        from optotrace.trace import ExecutionError, Node

        out = ExampleResult(example)
        try:
            output = self.agent(self.input_fn(example))
        except ExecutionError as exc:
            out.error_node = exc.exception_node
            out.error = str(getattr(exc.exception_node, "data", exc))
            out.score, out.feedback = self.failure_score, f"The program failed with an error:\n{out.error}"
            return out
        except Exception as exc:  # a crash outside traced code: recorded, not fatal
            out.error = f"{type(exc).__name__}: {exc}"
            out.score, out.feedback = self.failure_score, f"The program failed with an error: {out.error}"
            return out
        out.output = output
        value = output.data if isinstance(output, Node) else output
        try:
            result = self.metric(example, value)
        except Exception as exc:  # a crashing metric marks the example failed; the run goes on
            out.error = f"metric failed: {type(exc).__name__}: {exc}"
            out.score, out.feedback = self.failure_score, out.error
            return out
        score, feedback = result if isinstance(result, tuple) and len(result) == 2 else (result, None)
        out.score = float(score)
        out.feedback = feedback if feedback is not None else f"score: {out.score:g}"
        return out

    # -- batches ----------------------------------------------------------------------------------------------
    def run_batch(self, examples: Sequence[Any]) -> list[ExampleResult]:
        """Run the agent on `examples` (at most `concurrency` at a time); outcomes in example order. Each run
        is remembered as the score of the current values on that example."""
        budget = active_budget()
        refused = budget.refused if budget is not None else 0
        with budget_phase("evaluation"):
            if self.concurrency == 1 or len(examples) <= 1:
                outcomes = [contextvars.copy_context().run(self.run_one, ex) for ex in examples]
            else:
                workers = min(self.concurrency, len(examples))
                with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="optotrace-eval") as pool:
                    futures = [pool.submit(contextvars.copy_context().run, self.run_one, ex) for ex in examples]
                    outcomes = [f.result() for f in futures]
        self.runs += len(examples)
        if budget is not None and budget.refused > refused:  # some runs were cut short: not a real score
            raise RunBudgetExhausted(f"the run's budget ran out while scoring {len(examples)} examples; "
                                     "the run stops and keeps its best values",
                                     limit=budget.calls or budget.tokens or 0, used=budget.used_calls, needed=1)
        if self.cache_scores:
            key = self.fingerprint()
            for o in outcomes:
                self._scores[(key, example_key(o.example))] = ExampleResult(o.example, None, o.score, _plain(o.feedback),
                                                                      o.error)
        return outcomes

    def outcomes(self, examples: Sequence[Any], update: Mapping[Any, Any] | None = None) -> list[ExampleResult]:
        """Each example's outcome with `update` in place (remembered ones are not run again); the update
        is taken back afterwards. Outcomes from memory carry no output node."""
        with self.values(update or {}):
            key = self.fingerprint() if self.cache_scores else ""
            keys = [example_key(ex) for ex in examples]
            known = {k: self._scores.get((key, k)) for k in keys} if self.cache_scores else {}
            todo = [ex for ex, k in zip(examples, keys, strict=True) if known.get(k) is None]
            fresh = self.run_batch(todo) if todo else []
        by_key = {**{k: o for k, o in known.items() if o is not None},
                  **{example_key(o.example): o for o in fresh}}
        return [by_key[k] for k in keys]

    def scores(self, examples: Sequence[Any], update: Mapping[Any, Any] | None = None) -> list[float]:
        return [o.score for o in self.outcomes(examples, update)]

    def mean(self, examples: Sequence[Any], update: Mapping[Any, Any] | None = None) -> float:
        s = self.scores(examples, update)
        return sum(s) / len(s) if s else 0.0

    # -- values -----------------------------------------------------------------------------------------------
    @contextmanager
    def values(self, update: Mapping[Any, Any]) -> Iterator[None]:
        """Put `update` in place for the block, then restore the previous values."""
        saved = {p: p.data for p in update}
        try:
            for p, v in update.items():
                p.set(v)
            yield
        finally:
            for p, v in saved.items():
                p.set(v)

    def fingerprint(self) -> str:
        """The current values of every parameter, as one string (the key of remembered scores)."""
        return json.dumps([_plain(p.data) for p in self.params], sort_keys=True, default=repr)

    def forget(self) -> None:
        self._scores.clear()


def example_key(example: Any) -> str:
    """An example's content as a string (the key of its remembered scores)."""
    return json.dumps(_plain(example), sort_keys=True)


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return repr(value)
