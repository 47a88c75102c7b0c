"""Which driver `optimize()` runs, and the optimizers it gives it by default.

| strategy     | driver                           | for                                                          |
|--------------|----------------------------------|--------------------------------------------------------------|
| "train"      | Trainer (train/trainer.py)       | step-by-step training; no validation set needed             |
| "population" | GEPA (search/population.py)      | reflective mutation and merge over a Pareto front; large budgets |
| "race"       | ProposeRace (search/propose_race.py) | many proposals and demo subsets raced on validation; small budgets |
| "demos"      | DemoSearch (search/demos.py)     | few-shot demonstrations only                                 |
| "bo"         | Trainer + BayesOpt               | numeric parameters, by Bayesian optimization                 |
| "pareto"     | Trainer + ParetoSearch           | numeric parameters, several objectives                       |

"auto" decides from the parameters' kinds and the budget, and says why (`OptimizeResult.picked`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from optotrace.optimizers.errors import OptimizerError

__all__ = ["RACE_MAX_CALLS", "STRATEGIES", "default_optimizers", "kind_of_param", "pick_strategy"]

STRATEGIES = ("train", "population", "race", "demos", "bo", "pareto")
# Up to this many calls, proposals raced on validation beat a loop that pays a full validation pass per
# proposal (docs/QUALITY.md); above it the population search has room to mutate and merge.
RACE_MAX_CALLS = 300


def kind_of_param(p: Any) -> str:
    """demos | code | number | text | value: what a parameter holds, from its declared role, else its type."""
    role = getattr(p, "role", None)
    if role in ("demos", "code"):
        return role
    if isinstance(p.data, (int, float)) and not isinstance(p.data, bool):
        return "number"
    if isinstance(p.data, str):
        return "text"
    return "value"


def pick_strategy(params: Sequence[Any], budget_calls: int | None, has_val: bool) -> tuple[str, str]:
    """(strategy, why) for strategy="auto"."""
    kinds = {kind_of_param(p) for p in params}
    if kinds == {"number"}:
        return "train", ("only numeric parameters: step-by-step training with feedback (strategy='bo' searches "
                         "them by Bayesian optimization instead)")
    if not has_val:
        return "train", "no validation set: step-by-step training, each update scored on its minibatch"
    if kinds == {"demos"}:
        return "demos", "only few-shot demos to choose: demo subsets raced on the validation set"
    if budget_calls is not None and budget_calls <= RACE_MAX_CALLS:
        return "race", (f"a budget of {budget_calls} calls (<= {RACE_MAX_CALLS}): proposals and demo subsets "
                        "raced on the validation set")
    return "population", ("a large or token-only budget: the population search (reflective mutation and merge "
                          "over a Pareto front)")


def default_optimizers(params: Sequence[Any], llm: Any, *, strategy: str, objective: str | None = None,
                       label: Any = None, answers: Any = None, trainset: Sequence[Any] = (), input_fn: Any = None,
                       seed: int = 0) -> list[Any]:
    """The optimizers for `params`: demos to BootstrapFewShot (with the known answers as labeled pairs when
    `label` is given); on a small model, text to InstructionInduction and code to CodeRewrite (short prompts it
    can follow), everything else to OptoPrime; on a capable model, OptoPrime for all but demos."""
    from optotrace.optimizers.code_rewrite import CodeRewrite
    from optotrace.optimizers.fewshot import BootstrapFewShot, plain_value
    from optotrace.optimizers.induction import InstructionInduction
    from optotrace.optimizers.optoprime import OptoPrime
    from optotrace.optimizers.train.evaluation import default_input

    by_kind: dict[str, list[Any]] = {}
    for p in params:
        by_kind.setdefault(kind_of_param(p), []).append(p)
    opts: list[Any] = []
    small = bool(getattr(llm, "small_model", False))
    rest = [p for k in ("text", "code", "number", "value") for p in by_kind.get(k, [])]
    if small and strategy in ("race", "population", "train"):
        if by_kind.get("text"):
            opts.append(InstructionInduction(by_kind["text"], llm=llm, objective=objective, seed=seed,
                                             answers=answers))
        if by_kind.get("code"):
            opts.append(CodeRewrite(by_kind["code"], llm=llm, objective=objective, seed=seed))
        rest = by_kind.get("number", []) + by_kind.get("value", [])
    if rest:
        opts.append(OptoPrime(rest, llm=llm, objective=objective, seed=seed, answers=answers))
    read = input_fn or default_input
    labeled = [{"input": plain_value(read(e)), "output": plain_value(label(e))} for e in trainset] if label else []
    opts += [BootstrapFewShot(d, labeled=labeled, seed=seed) for d in by_kind.get("demos", [])]
    if not opts:
        raise OptimizerError("nothing to optimize: the program has no trainable parameters")
    return opts
