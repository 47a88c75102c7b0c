"""`Trainer`: the minibatch loop around one or more optimizers, with checkpoints and resume.

    trainer = Trainer(agent, OptoPrime(agent.parameters(), llm=llm), train, val, metric=metric,
                      batch_size=4, epochs=2, run_dir="runs/demo")
    result = trainer.fit()

`metric(example, output) -> (score, feedback)`, higher scores are better. `agent(x)` is called with
`input_fn(example)` (default: `example["input"]` for a dict with that key, `example[0]` for a pair, else the
example itself). A minibatch runs on at most `concurrency` threads (each in a copy of the caller's context, so
each traces its own graph); then each output gets `backward(feedback)` in example order (a failed call's
ExceptionNode gets the error as feedback), every optimizer steps, the validation set is scored, and the step is
written to `run_dir` (see run_store.py). `resume=True` continues from the last finished step: parameters,
optimizer states, the shuffle (a function of seed and epoch) and the step index all come back, so under a
deterministic model the result equals an uninterrupted run's.
"""

from __future__ import annotations

import contextvars
import json
import logging
import math
import random
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from optotrace.optimizers.base import collect_parameters, stable_names
from optotrace.optimizers.errors import TrainerError
from optotrace.optimizers.graph_snapshot import save_step_graph
from optotrace.optimizers.result_display import ResultDisplay
from optotrace.optimizers.run_store import RunStore, plot_learning_curve

log = logging.getLogger("optotrace.optimizers.trainer")

__all__ = ["Trainer", "TrainResult", "Outcome"]

Metric = Callable[[Any, Any], Any]


@dataclass
class Outcome:
    """One example's run: the output (node or value), its score and feedback, and the error if it failed."""

    example: Any
    output: Any = None
    score: float = 0.0
    feedback: Any = ""
    error: str | None = None
    error_node: Any = None


@dataclass
class TrainResult(ResultDisplay):
    run_dir: Path | None
    initial_score: float | None
    final_score: float | None
    best_score: float | None
    best_step: int
    steps: int
    history: list[dict[str, Any]] = field(default_factory=list)
    parameters: dict[str, Any] = field(default_factory=dict)


def default_input(example: Any) -> Any:
    if isinstance(example, dict) and "input" in example:
        return example["input"]
    if isinstance(example, tuple) and len(example) == 2:
        return example[0]
    return example


class Trainer:
    def __init__(
        self,
        agent: Callable[[Any], Any],
        optimizer: Any,
        train: Sequence[Any],
        val: Sequence[Any] | None = None,
        *,
        metric: Metric,
        batch_size: int = 4,
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
    ) -> None:
        if not train:
            raise TrainerError("the training set is empty; pass at least one example")
        self.agent = agent
        self.optimizers = list(optimizer) if isinstance(optimizer, (list, tuple)) else [optimizer]
        self.train = list(train)
        self.val = list(val) if val else None
        self.metric = metric
        self.batch_size = max(1, min(int(batch_size), len(self.train)))
        self.batches_per_epoch = math.ceil(len(self.train) / self.batch_size)
        self.total_steps = int(steps) if steps is not None else int(epochs) * self.batches_per_epoch
        self.concurrency = max(1, int(concurrency))
        self.store = RunStore(run_dir) if run_dir is not None else None
        self.resume = resume
        self.seed = seed
        self.input_fn = input_fn or default_input
        self.target = target
        self.restore_best = restore_best
        self.failure_score = failure_score
        self.progress = progress
        params: list[Any] = []
        for opt in self.optimizers:
            if hasattr(opt, "params"):
                try:
                    params.extend(collect_parameters(opt.params))
                except Exception:  # a numeric optimizer holding raw tensors: its state_dict carries them
                    pass
        self.params = collect_parameters(params) if params else []
        self.named = self._named_parameters()

    def _named_parameters(self) -> dict[str, Any]:
        named_fn = getattr(self.agent, "named_parameters", None)
        if callable(named_fn):
            named = dict(named_fn())
            ids = {id(p) for p in named.values()}
            if all(id(p) in ids for p in self.params):
                return named
        names = stable_names(self.params)
        return {names[id(p)]: p for p in self.params}

    # -- running the agent ---------------------------------------------------------------------------------
    def _run_one(self, example: Any) -> Outcome:
        from optotrace.trace import ExecutionError, Node

        out = Outcome(example)
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
        if isinstance(result, tuple) and len(result) == 2:
            score, feedback = result
        else:
            score, feedback = result, None
        out.score = float(score)
        out.feedback = feedback if feedback is not None else f"score: {out.score:g}"
        return out

    def run_batch(self, examples: Sequence[Any]) -> list[Outcome]:
        """Run the agent on `examples` on at most `concurrency` threads; outcomes in example order."""
        if self.concurrency == 1 or len(examples) == 1:
            return [contextvars.copy_context().run(self._run_one, ex) for ex in examples]
        workers = min(self.concurrency, len(examples))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="optotrace-train") as pool:
            futures = [pool.submit(contextvars.copy_context().run, self._run_one, ex) for ex in examples]
            return [f.result() for f in futures]

    def evaluate(self, examples: Sequence[Any]) -> float:
        outcomes = self.run_batch(examples)
        return sum(o.score for o in outcomes) / len(outcomes) if outcomes else 0.0

    def _candidate_evaluator(self, batch: Sequence[Any]) -> Callable[[dict[Any, Any]], float]:
        def evaluate(update: dict[Any, Any]) -> float:
            saved = {p: p.data for p in update}
            try:
                for p, v in update.items():
                    p.set(v)
                return self.evaluate(batch)
            finally:
                for p, v in saved.items():
                    p.set(v)

        return evaluate

    # -- the order of examples -------------------------------------------------------------------------------
    def batch_for(self, step: int) -> tuple[int, list[Any]]:
        """(epoch, examples) of step `step` (0-based); the shuffle depends only on (seed, epoch)."""
        epoch, pos = divmod(step, self.batches_per_epoch)
        order = list(range(len(self.train)))
        random.Random(f"{self.seed}:{epoch}").shuffle(order)
        idx = order[pos * self.batch_size : (pos + 1) * self.batch_size]
        return epoch, [self.train[i] for i in idx]

    # -- checkpoints -------------------------------------------------------------------------------------------
    def _save_params(self, step: int) -> None:
        if self.store is None or not self.named:
            return
        from optotrace.trace import save_parameters

        save_parameters(self.named, self.store.params_path(step))

    def _load_params(self, step: int) -> None:
        if self.store is None or not self.named:
            return
        from optotrace.trace import load_parameters

        load_parameters(self.named, self.store.params_path(step))

    def _optimizer_states(self, step: int) -> list[Any]:
        states = []
        for i, opt in enumerate(self.optimizers):
            state = opt.state_dict() if hasattr(opt, "state_dict") else None
            try:
                json.dumps(state)
                states.append(state)
            except (TypeError, ValueError):  # tensors: torch's own format, next to the JSON
                import torch

                assert self.store is not None
                path = self.store.dir / "optimizers" / f"opt{i}_step_{step:05d}.pt"
                path.parent.mkdir(parents=True, exist_ok=True)
                tmp = path.with_suffix(".tmp")
                torch.save(state, tmp)
                tmp.replace(path)
                states.append({"__torch_file__": str(path.relative_to(self.store.dir))})
        return states

    def _load_optimizer_states(self, states: list[Any]) -> None:
        if len(states) != len(self.optimizers):
            raise TrainerError(
                f"the run in {self.store and self.store.dir} was saved with {len(states)} optimizers, this trainer "
                f"has {len(self.optimizers)}; resume with the same set-up or start a new run directory"
            )
        for opt, state in zip(self.optimizers, states, strict=False):
            if state is None or not hasattr(opt, "load_state_dict"):
                continue
            if isinstance(state, dict) and "__torch_file__" in state:
                import torch

                assert self.store is not None
                state = torch.load(self.store.dir / state["__torch_file__"], weights_only=False)
            opt.load_state_dict(state)

    def _usage(self) -> tuple[int, float]:
        tokens, cost, seen = 0, 0.0, set()
        for opt in self.optimizers:
            llm = getattr(opt, "_llm", None)
            if llm is None or isinstance(llm, str) or id(llm) in seen:
                continue
            seen.add(id(llm))
            u = llm.usage
            tokens += int(u.total_tokens)
            cost += float(u.cost_usd)
        return tokens, cost

    # -- the loop ------------------------------------------------------------------------------------------------
    def fit(self) -> TrainResult:
        state = self._start()
        history: list[dict[str, Any]] = state["history"]
        step = state["step"]
        t_start = time.perf_counter()
        bar = _Progress(self.total_steps, step, self.progress)
        graph_step = step  # the first step this call runs: its graph goes into the run report
        try:
            while step < self.total_steps and not self._reached(state):
                t0 = time.perf_counter()
                tokens0, cost0 = self._usage()
                epoch, batch = self.batch_for(step)
                for opt in self.optimizers:
                    opt.zero_feedback()
                outcomes = self.run_batch(batch)
                self._backward(outcomes)
                if self.store is not None and step == graph_step:
                    save_step_graph(self.store.dir, step + 1, outcomes)
                train_score = sum(o.score for o in outcomes) / len(outcomes)
                if self.val is None and (state["best_score"] is None or train_score > state["best_score"]):
                    state["best_score"], state["best_step"] = train_score, step  # params before this update
                applied, rejected = 0, 0
                done = self.val is None and self.target is not None and train_score >= self.target
                for opt in [] if done else self.optimizers:  # at the target already: keep these values
                    if hasattr(opt, "observe"):
                        opt.observe(train_score)
                    n_rej = len(getattr(opt, "rejected", []))
                    if getattr(opt, "num_candidates", 1) > 1:
                        update = opt.step(evaluate=self._candidate_evaluator(batch))
                    else:
                        update = opt.step()
                    applied += len(update) if isinstance(update, dict) else 0
                    rejected += len(getattr(opt, "rejected", [])) - n_rej
                for opt in self.optimizers:
                    opt.zero_feedback()  # the step's graphs are no longer needed
                    release = getattr(opt, "release", None)
                    if callable(release):  # numeric optimizers: plain values between steps, for checkpoints
                        release()
                step += 1
                val_score = self.evaluate(self.val) if self.val is not None else None
                if val_score is not None and (state["best_score"] is None or val_score > state["best_score"]):
                    state["best_score"], state["best_step"] = val_score, step
                tokens1, cost1 = self._usage()
                record = {
                    "step": step,
                    "epoch": epoch,
                    "train_score": train_score,
                    "val_score": val_score,
                    "best_score": state["best_score"],
                    "best_step": state["best_step"],
                    "applied": applied,
                    "rejected": rejected,
                    "errors": sum(1 for o in outcomes if o.error),
                    "tokens": tokens1 - tokens0,
                    "cost_usd": cost1 - cost0,
                    "seconds": round(time.perf_counter() - t0, 3),
                    "examples": [
                        {"score": o.score, "feedback": _short(o.feedback), "error": o.error} for o in outcomes
                    ],
                }
                history.append({k: v for k, v in record.items() if k != "examples"})
                state["step"] = step
                self._checkpoint(state, record)
                bar.advance(train_score, val_score, state["best_score"])
        finally:
            bar.close()
        return self._finish(state, time.perf_counter() - t_start)

    def _reached(self, state: dict[str, Any]) -> bool:
        if self.target is None or not state["history"]:
            return False
        last = state["history"][-1]
        score = last["val_score"] if self.val is not None else last["train_score"]
        return score is not None and score >= self.target

    def _backward(self, outcomes: Sequence[Outcome]) -> None:
        from optotrace.trace import Node

        for o in outcomes:
            target = o.error_node if o.error_node is not None else o.output
            if isinstance(target, Node):
                target.backward(o.feedback)

    def _start(self) -> dict[str, Any]:
        if self.store is not None:
            saved = self.store.load_state()
            if saved is not None and self.resume:
                return self._restore(saved)
            if saved is not None:
                log.info("starting a new run in %s (pass resume=True to continue the old one)", self.store.dir)
            self.store.clear()
            self.store.write_json("config.json", self._config())
        initial = self.evaluate(self.val) if self.val is not None else None
        state: dict[str, Any] = {
            "step": 0,
            "best_score": initial,
            "best_step": 0,
            "initial_val_score": initial,
            "history": [],
            "optimizers": [],
            "total_steps": self.total_steps,
        }
        if self.store is not None:
            self._save_params(0)
            state["optimizers"] = self._optimizer_states(0)
            self.store.write_json("state.json", state)
        return state

    def _restore(self, saved: dict[str, Any]) -> dict[str, Any]:
        assert self.store is not None
        step = int(saved["step"])
        self._load_params(step)
        self._load_optimizer_states(saved.get("optimizers", []))
        saved["history"] = [h for h in saved.get("history", []) if h["step"] <= step]
        log.info("resuming %s after step %d", self.store.dir, step)
        return saved

    def _checkpoint(self, state: dict[str, Any], record: dict[str, Any]) -> None:
        if self.store is None:
            return
        step = state["step"]
        self.store.write_json(self.store.step_path(step).relative_to(self.store.dir), record)
        self._save_params(step)
        state["optimizers"] = self._optimizer_states(step)
        self.store.write_json("state.json", state)  # last: this is what resume trusts
        self.store.write_metrics(state["history"])

    def _config(self) -> dict[str, Any]:
        return {
            "agent": getattr(self.agent, "__qualname__", type(self.agent).__name__),
            "optimizers": [type(o).__name__ for o in self.optimizers],
            "models": [getattr(getattr(o, "_llm", None), "spec", None) for o in self.optimizers],
            "train_size": len(self.train),
            "val_size": len(self.val) if self.val else 0,
            "batch_size": self.batch_size,
            "total_steps": self.total_steps,
            "seed": self.seed,
            "parameters": list(self.named),
        }

    def _finish(self, state: dict[str, Any], seconds: float) -> TrainResult:
        history = state["history"]
        best_step = int(state["best_step"])
        final = None
        if history:
            final = history[-1]["val_score"] if self.val is not None else history[-1]["train_score"]
        if self.restore_best and self.store is not None and best_step != state["step"]:
            self._load_params(best_step)
        if self.store is not None:
            self.store.write_metrics(history)
            self._save_best()
            if history:
                try:
                    plot_learning_curve(history, self.store.dir / "learning_curve.png",
                                        {"val_score": state.get("initial_val_score")})
                except Exception as exc:  # a plotting problem must not lose the run
                    log.warning("could not draw the learning curve: %s", exc)
            self.store.write_json("summary.json", {
                "steps": state["step"],
                "initial_val_score": state.get("initial_val_score"),
                "final_score": final,
                "best_score": state["best_score"],
                "best_step": best_step,
                "seconds": round(seconds, 2),
                "parameters": {k: _short(p.data, 2000) for k, p in self.named.items()},
            })
        return TrainResult(
            run_dir=self.store.dir if self.store else None,
            initial_score=state.get("initial_val_score") if self.val is not None else (
                history[0]["train_score"] if history else None),
            final_score=final,
            best_score=state["best_score"],
            best_step=best_step,
            steps=state["step"],
            history=history,
            parameters={k: p.data for k, p in self.named.items()},
        )

    def _save_best(self) -> None:
        assert self.store is not None
        path = self.store.dir / "best_params.json"
        save = getattr(self.agent, "save", None)
        if callable(save) and callable(getattr(self.agent, "named_parameters", None)):
            save(path)
        elif self.named:
            from optotrace.trace import save_parameters

            save_parameters(self.named, path)


def _short(value: Any, limit: int = 500) -> Any:
    if value is None or isinstance(value, (bool, int, float)):
        return value
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


class _Progress:
    """A rich progress bar showing the latest scores; silent when disabled."""

    def __init__(self, total: int, done: int, enabled: bool) -> None:
        self._bar = None
        if not enabled:
            return
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self._bar = Progress(
            TextColumn("[bold]training"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[scores]}"),
            TimeElapsedColumn(), transient=False,
        )
        self._bar.start()
        self._task = self._bar.add_task("train", total=total, completed=done, scores="")

    def advance(self, train: float, val: float | None, best: float | None) -> None:
        if self._bar is None:
            return
        text = f"batch {train:.3f}" + (f"  val {val:.3f}" if val is not None else "")
        text += f"  best {best:.3f}" if best is not None else ""
        self._bar.update(self._task, advance=1, scores=text)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()
