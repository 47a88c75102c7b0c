"""What every whole-run search checks and builds first: its candidate optimizers, the parameters they share
(named as the prompts show them), and the config its run directory records."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from optotrace.llm.run_budget import RunBudget
from optotrace.optimizers.contract import CandidateOptimizer
from optotrace.optimizers.errors import OptimizerError

__all__ = ["candidate_optimizers", "named_parameters", "run_config"]


def candidate_optimizers(optimizer: Any, driver: str) -> list[Any]:
    """The optimizer(s) as a list, each one able to propose candidates, else a clear error naming `driver`."""
    optimizers = list(optimizer) if isinstance(optimizer, (list, tuple)) else [optimizer]
    for opt in optimizers:
        if not isinstance(opt, CandidateOptimizer):
            raise OptimizerError(f"{driver} needs optimizers that propose candidates (OptoPrime, OPRO, TextGrad, "
                                 f"InstructionInduction, BootstrapFewShot); {type(opt).__name__} does not")
    return optimizers


def named_parameters(optimizers: Sequence[Any]) -> dict[str, Any]:
    """{name: parameter} over every optimizer's parameters, each once, under the names the prompts use."""
    from optotrace.optimizers.base import stable_names

    params = list(dict.fromkeys(p for opt in optimizers for p in opt.params))
    names = stable_names(params)
    return {names[id(p)]: p for p in params}


def run_config(strategy: str, optimizers: Sequence[Any], trainset: Sequence[Any], valset: Sequence[Any],
               budget: RunBudget, seed: int, **more: Any) -> dict[str, Any]:
    """What a search's config.json records (resume refuses a run set up differently)."""
    return {"strategy": strategy, "optimizers": [type(o).__name__ for o in optimizers],
            "train_size": len(trainset), "val_size": len(valset), "seed": seed,
            "budget": {"calls": budget.calls, "tokens": budget.tokens}, **more}
