"""The registry of systems the quality benchmark compares. Adding one is one entry in SYSTEMS.

A system is a function `run(ctx: RunContext) -> SystemOutcome` for prompt tasks (and optionally
`run_code(...)` for HumanEval). It may spend at most `ctx.budget` LLM calls through `ctx.proxy` (the proxy
refuses more) and returns the instruction it ends with; the harness scores it on the validation set.

- An optotrace optimizer that the Trainer drives: `trainer_system(factory)`, where
  `factory(params, llm, task)` builds the optimizer, e.g.
      "gepa-search": System("gepa-search", "optotrace", trainer_system(
          lambda params, llm, task: GEPASearch(params, llm=llm, objective=task.objective))),
- Anything else in-process (its own loop): `System("name", "optotrace", my_run)` with my_run(ctx).
- A peer in the peers' interpreter: `System("name", "peer", peer_system("script.py", *args))`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from . import ours, ours_search
from .context import RunContext, SystemOutcome
from .peers import peer_system

CodeFactory = Callable[[list[Any], Any, Any], Any]


@dataclass(frozen=True)
class System:
    name: str
    family: str  # "optotrace" or "peer"
    run: Callable[[RunContext], SystemOutcome]
    code_optimizer: CodeFactory | None = None  # given: the system also runs the HumanEval loop
    about: str = ""


SYSTEMS: dict[str, System] = {
    s.name: s
    for s in (
        System("optoprime", "optotrace", ours.trainer_system(ours.optoprime), ours.optoprime,
               "optotrace OptoPrime through the Trainer (dev-set selection)"),
        System("opro", "optotrace", ours.trainer_system(ours.opro), ours.opro, "optotrace OPRO through the Trainer"),
        System("textgrad", "optotrace", ours.trainer_system(ours.textgrad), ours.textgrad,
               "optotrace's TextGrad-style optimizer through the Trainer"),
        System("gepa-ours", "optotrace", ours_search.gepa, None,
               "optotrace GEPA-style search: Pareto front over dev examples, reflective OptoPrime mutations, merges"),
        System("demos", "optotrace", ours_search.demos, None,
               "optotrace bootstrapped few-shot demos, subset chosen on the dev set"),
        System("gepa-demos", "optotrace", ours_search.gepa_demos, None,
               "optotrace GEPA-style search over the instruction and the demos together"),
        System("induction", "optotrace", ours.trainer_system(ours.induction), ours.code_rewrite,
               "optotrace plain-text proposals: InstructionInduction through the Trainer; CodeRewrite on HumanEval"),
        System("propose-race", "optotrace", ours_search.propose_race, None,
               "optotrace propose-then-race: induced instructions and demo subsets raced on the dev set"),
        System("dspy-mipro", "peer", peer_system("dspy_run.py", "mipro"), None, "DSPy MIPROv2 auto=light"),
        System("dspy-gepa", "peer", peer_system("dspy_run.py", "gepa"), None, "DSPy GEPA"),
        System("gepa", "peer", peer_system("gepa_direct.py"), None, "the gepa package, custom adapter"),
        System("trace", "peer", peer_system("trace_optoprime.py"), None, "Microsoft Trace OptoPrime"),
        System("textgrad-peer", "peer", peer_system("textgrad_run.py"), None, "TextGrad (zou-group) TGD"),
    )
}
