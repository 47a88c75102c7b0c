"""`optimize()`: the one entry a user needs, whichever driver runs (strategies.py).

    import optotrace as ot
    result = ot.optimize(program, trainset, valset=valset, metric=metric, budget=100, run_dir="runs/x")
    result.best_values, result.best_score, result.spent, result.picked

`program(input)` is the workflow (ordinary Python using `ot.node`/`@ot.bundle`), `metric(example, output)`
returns a score (higher is better) or (score, feedback). The trainable parameters are `params=`, else
`program.parameters()` (an `ot.Module`), else the `.parameter` of a trainable bundled `program`. Every driver
spends at most `budget` (LLM calls, or {"calls": n, "tokens": m}) on proposals and the workflow's own calls
together, writes `run_dir` as it goes (checkpoints, report.html at the end, MLflow when OPTOTRACE_MLFLOW or
MLFLOW_TRACKING_URI is set), resumes a killed run with `resume=True`, and leaves the best values in the
parameters. A run directory that already holds a run is never replaced unless `overwrite=True`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from optotrace.llm.run_budget import RunBudget
from optotrace.optimizers.base import collect_parameters
from optotrace.optimizers.errors import OptimizerError
from optotrace.optimizers.strategies import STRATEGIES, default_optimizers, pick_strategy
from optotrace.optimizers.train.result import OptimizeResult

log = logging.getLogger("optotrace.optimize")

__all__ = ["optimize"]

RUN_FILES = ("state.json", "config.json", "summary.json", "steps", "params")


def optimize(
    program: Callable[[Any], Any],
    trainset: Sequence[Any],
    *,
    metric: Callable[[Any, Any], Any],
    valset: Sequence[Any] | None = None,
    budget: RunBudget | int | dict[str, int] | None = 100,
    strategy: str = "auto",
    run_dir: str | Path | None = None,
    resume: bool = False,
    overwrite: bool = False,
    llm: Any = None,
    params: Any = None,
    optimizers: Any = None,
    objective: str | None = None,
    label: Callable[[Any], Any] | None = None,
    answers: Any = None,
    minibatch_size: int | None = None,
    concurrency: int = 4,
    input_fn: Callable[[Any], Any] | None = None,
    seed: int = 0,
    progress: bool = True,
    report: bool = True,
    **options: Any,
) -> OptimizeResult:
    """Optimize `program`'s trainable parameters on `trainset`, choosing by `valset`; see the module doc.

    `strategy`: "auto" (default), "train", "population", "race", "demos", "bo" or "pareto".
    `llm`: the optimizer's model (an LLM or a spec such as "local", "openai:gpt-4o-mini"); default: get_llm().
    `optimizers`: the optimizers to drive instead of the defaults (strategies.default_optimizers).
    `objective`: what the optimizer is asked to achieve, in words; `label(example)`: the known answer, which
    lets labeled pairs serve as few-shot demos at no call. `answers`: the task's answer space (its labels, or a
    function telling whether a text is an answer), so that a proposed instruction that is one answer is refused.
    `options` go to the driver (e.g. steps=, epochs=
    for "train"; max_iterations= for "population"; bounds= for "bo"; objectives= for "pareto").
    """
    if strategy != "auto" and strategy not in STRATEGIES:
        raise OptimizerError(f"strategy={strategy!r} is not one of auto, {', '.join(STRATEGIES)}")
    if not trainset:
        raise OptimizerError("the training set is empty; pass at least one example")
    if not callable(metric):
        raise OptimizerError("metric= must be a function metric(example, output) -> score or (score, feedback)")
    run_budget = RunBudget.coerce(budget) or RunBudget()
    nodes = _parameters(program, params, optimizers)
    has_val = bool(valset)
    picked = ""
    if strategy == "auto":
        strategy, picked = pick_strategy(nodes, run_budget.calls, has_val)
        log.info("optimize: strategy %r: %s", strategy, picked)
    if strategy in ("population", "race", "demos") and not has_val:
        raise OptimizerError(f"strategy {strategy!r} chooses by a validation set; pass valset= (or use "
                             "strategy='train')")
    _guard_run_dir(run_dir, resume, overwrite)
    common = {"budget": run_budget, "seed": seed, "concurrency": concurrency, "input_fn": input_fn}
    task = {"objective": objective, "label": label, "answers": answers}
    try:
        driver = _driver(strategy, program, nodes, list(trainset), list(valset or []), metric, llm, optimizers,
                         task, minibatch_size, common, run_dir, resume, progress, dict(options))
    except TypeError as exc:
        if "unexpected keyword argument" not in str(exc):
            raise
        raise OptimizerError(f"strategy {strategy!r}: {exc}; see help(optotrace.optimize) for its options") from None
    result = driver.fit()
    result.picked = picked or f"strategy {strategy!r} as asked"
    if run_dir is not None and report:
        _after_run(Path(run_dir))
    return result


def _parameters(program: Any, params: Any, optimizers: Any) -> list[Any]:
    if optimizers is not None:
        opts = optimizers if isinstance(optimizers, (list, tuple)) else [optimizers]
        return collect_parameters([p for o in opts for p in o.params])
    if params is None:
        if callable(getattr(program, "parameters", None)):
            params = program.parameters()
        elif getattr(program, "parameter", None) is not None:
            params = [program.parameter]
        else:
            raise OptimizerError("optimize() needs to know the trainable parameters: pass params=[...] (the "
                                 "ot.node(..., trainable=True) values), or an ot.Module as the program")
    nodes = collect_parameters(params)
    if not nodes:
        raise OptimizerError("the program has no trainable parameters; mark some with trainable=True")
    return nodes


def _guard_run_dir(run_dir: str | Path | None, resume: bool, overwrite: bool) -> None:
    if run_dir is None:
        if resume:
            raise OptimizerError("resume=True needs the run_dir= of the run to continue")
        return
    path = Path(run_dir)
    if path.exists() and not path.is_dir():
        raise OptimizerError(f"run_dir {path} is a file; give a directory")
    holds_run = path.is_dir() and any((path / name).exists() for name in RUN_FILES)
    if holds_run and not (resume or overwrite):
        raise OptimizerError(f"{path} already holds a run; pass resume=True to continue it, overwrite=True to "
                             "replace it, or another run_dir")


def _driver(strategy: str, program: Any, nodes: list[Any], trainset: list[Any], valset: list[Any], metric: Any,
            llm: Any, optimizers: Any, task: dict[str, Any], minibatch_size: int | None,
            common: dict[str, Any], run_dir: Any, resume: bool, progress: bool, options: dict[str, Any]) -> Any:
    from optotrace.optimizers.search.demos import DemoSearch
    from optotrace.optimizers.search.population import GEPA
    from optotrace.optimizers.search.propose_race import ProposeRace
    from optotrace.optimizers.train.trainer import Trainer

    where = {"run_dir": run_dir, "resume": resume}
    if strategy == "demos":  # only the few-shot demos change; any other parameter keeps its value
        from optotrace.trace import Demos

        return DemoSearch(program, [p for p in nodes if isinstance(p, Demos)], trainset, valset, metric=metric, label=task["label"], **common, **where,
                          **options)
    if strategy in ("bo", "pareto"):
        opts = optimizers or [_explorer(strategy, nodes, options, common["seed"])]
        steps = options.pop("steps", None) or _steps_for(common["budget"], minibatch_size or 4)
        return Trainer(program, opts, trainset, valset or None, metric=metric, minibatch_size=minibatch_size or 4,
                       steps=steps, progress=progress, **common, **where, **options)
    if optimizers is None:
        from optotrace.llm import get_llm

        model = llm if llm is not None and not isinstance(llm, str) else get_llm(llm)
        optimizers = default_optimizers(nodes, model, strategy=strategy, trainset=trainset, input_fn=common["input_fn"],
                                        seed=common["seed"], **task)
    if strategy == "train":
        steps = options.pop("steps", None)
        if steps is None and "epochs" not in options:
            steps = _steps_for(common["budget"], minibatch_size or 4)
        return Trainer(program, optimizers, trainset, valset or None, metric=metric,
                       minibatch_size=minibatch_size or 4, steps=steps, progress=progress, **common, **where,
                       **options)
    if strategy == "population":
        return GEPA(program, optimizers, trainset, valset, metric=metric, minibatch_size=minibatch_size or 3,
                    progress=progress, **common, **where, **options)
    return ProposeRace(program, optimizers, trainset, valset, metric=metric, minibatch_size=minibatch_size or 4,
                       progress=progress, **common, **where, **options)


def _steps_for(budget: RunBudget, minibatch_size: int) -> int:
    """Steps for a budgeted run: as many as the budget can pay for (it stops the run cleanly when spent)."""
    if budget.calls is None:
        return 20
    return max(1, budget.calls // max(1, minibatch_size))


def _explorer(strategy: str, nodes: list[Any], options: dict[str, Any], seed: int) -> Any:
    """BayesOpt or ParetoSearch over the numeric parameters; its own options (bounds=, n_init=, objectives=,
    measures=, pop_size=...) are taken out of `options`, the rest go to the Trainer."""
    import inspect

    numeric = [p for p in nodes if isinstance(p.data, (int, float)) and not isinstance(p.data, bool)]
    if not numeric:
        raise OptimizerError(f"strategy {strategy!r} searches numeric parameters; this program has none")
    if strategy == "bo":
        from optotrace.optimizers.bayes import BayesOpt as explorer
    else:
        from optotrace.optimizers.evolution import ParetoSearch as explorer

        if "objectives" not in options:
            raise OptimizerError("strategy 'pareto' needs objectives= ({name: 'max' or 'min'}, two or more) and "
                                 "measures= for those the metric does not give")
    own = set(inspect.signature(explorer.__init__).parameters) - {"self", "params"}
    kwargs = {k: options.pop(k) for k in list(options) if k in own}
    if "seed" in own:
        kwargs.setdefault("seed", seed)
    return explorer(numeric, **kwargs)


def _after_run(run_dir: Path) -> None:
    """report.html, and MLflow when asked; a failure here is a warning (the run is finished and saved)."""
    import os

    from optotrace.reports import ReportError, write_report

    try:
        write_report(str(run_dir))
    except (ReportError, OSError) as exc:
        log.warning("no report written: %s", exc)
    flag = os.environ.get("OPTOTRACE_MLFLOW", "").strip().lower()
    if flag in ("0", "false", "no", "off") or not (flag or os.environ.get("MLFLOW_TRACKING_URI")):
        return
    try:
        from optotrace.reports.mlflow_log import log_run

        log_run(str(run_dir))
    except Exception as exc:  # a tracking server problem must not fail a finished run
        log.warning("could not log the run to MLflow: %s: %s", type(exc).__name__, exc)
