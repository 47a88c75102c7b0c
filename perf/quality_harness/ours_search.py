"""optotrace's search systems: the GEPA-style population search, bootstrapped few-shot demos, and both
together, each spending at most what is left of the task's call budget (optotrace's RunBudget refuses the
call that would cross it, and the proxy counts the same calls).

The workflow's system prompt is the instruction followed by the demos, so the harness scores exactly what the
search chose when it puts the returned text in the system prompt.
"""

from __future__ import annotations

from typing import Any

from . import ours
from .context import RunContext, SystemOutcome

EXAMPLES_HEADER = "\n\nExamples:\n\n"


def system_prompt(instruction: str, demos: Any) -> str:
    from optotrace import format_demos

    shown = format_demos(demos)
    return instruction + (EXAMPLES_HEADER + shown if shown else "")


def workflow(ctx: RunContext, with_demos: bool) -> tuple[Any, Any, Any]:
    """(agent, instruction parameter, demos parameter or None)."""
    import optotrace as ot

    task, llm = ctx.task, ctx.llm("workflow")
    instruction = ot.node(task.start_instruction, name="instruction", trainable=True, role="instruction",
                          description=f"the system prompt of the model that answers each {task.name} question; "
                                      f"its reply must end with {task.answer_format}")
    demos = ot.demos(name="examples", max_demos=3) if with_demos else None

    @ot.bundle()
    def answer(instruction: str, examples: Any, question: str) -> str:
        """Ask the model the question; the system prompt is the instruction and the worked examples."""
        return llm.complete(task.messages(system_prompt(instruction, examples or []), {"input": question}),
                            max_tokens=task.max_tokens).text

    def agent(question: str) -> Any:
        return answer(instruction, demos if demos is not None else [], ot.node(question, name="question"))

    return agent, instruction, demos


def _left(ctx: RunContext) -> int:
    return max(0, ctx.budget - ctx.calls_used())


def _optoprime(params: list[Any], ctx: RunContext) -> Any:
    from optotrace.optimizers import OptoPrime

    return OptoPrime(params, llm=ctx.llm("optimizer"), memory_size=2, objective=ctx.task.objective, max_tokens=400)


def gepa(ctx: RunContext) -> SystemOutcome:
    from optotrace.optimizers import GEPA

    agent, instruction, _ = workflow(ctx, with_demos=False)
    result = GEPA(agent, _optoprime([instruction], ctx), ctx.task.train, ctx.dev, metric=ctx.task.score,
                  budget=_left(ctx), minibatch_size=3, seed=ctx.task.seed, concurrency=2, progress=False).fit()
    return SystemOutcome(instruction=instruction.data, steps=result.details["iterations"],
                         notes=f"{len(result.details['programs'])} programs, stopped: {result.stopped}")


def demos(ctx: RunContext) -> SystemOutcome:
    from optotrace.optimizers import DemoSearch

    agent, instruction, examples = workflow(ctx, with_demos=True)
    result = DemoSearch(agent, examples, ctx.task.train, ctx.dev, metric=ctx.task.score, max_demos=3,
                        budget=_left(ctx), seed=ctx.task.seed, concurrency=2, label=_label).fit()
    tried = result.details["tried"]
    first_rung = min((t["examples"] for t in tried), default=0)
    raced = sum(t["examples"] == first_rung for t in tried)
    return SystemOutcome(instruction=system_prompt(instruction.data, examples.data), steps=1,
                         notes=f"{len(examples.data)} demos; {raced} subsets raced from {result.details['pool']} "
                               f"bootstrapped + {result.details['labeled']} labeled; stopped: {result.stopped}")


def _label(example: Any) -> Any:
    return example["target"]


def _not_dev(ctx: RunContext) -> list[dict[str, Any]]:
    """Train without the dev examples: a demo must not answer an example it is scored on."""
    return [ex for ex in ctx.task.train if ex not in ctx.dev]


def _labeled(ctx: RunContext) -> list[dict[str, Any]]:
    return [{"input": ex["input"], "output": _label(ex)} for ex in _not_dev(ctx)]


def gepa_demos(ctx: RunContext) -> SystemOutcome:
    from optotrace.optimizers import GEPA, BootstrapFewShot

    agent, instruction, examples = workflow(ctx, with_demos=True)
    optimizers = [_optoprime([instruction], ctx), BootstrapFewShot(examples, max_demos=3, seed=ctx.task.seed,
                                                                    labeled=_labeled(ctx))]
    result = GEPA(agent, optimizers, _not_dev(ctx), ctx.dev, metric=ctx.task.score, budget=_left(ctx),
                  minibatch_size=3, seed=ctx.task.seed, concurrency=2, progress=False).fit()
    return SystemOutcome(instruction=system_prompt(instruction.data, examples.data),
                         steps=result.details["iterations"],
                         notes=f"{len(result.details['programs'])} programs, stopped: {result.stopped}")


def propose_race(ctx: RunContext) -> SystemOutcome:
    from optotrace.optimizers import BootstrapFewShot, ProposeRace

    agent, instruction, examples = workflow(ctx, with_demos=True)
    optimizers = [ours.induction([instruction], ctx.llm("optimizer"), ctx.task),
                  BootstrapFewShot(examples, max_demos=3, seed=ctx.task.seed, labeled=_labeled(ctx))]
    result = ProposeRace(agent, optimizers, _not_dev(ctx), ctx.dev, metric=ctx.task.score, budget=_left(ctx),
                         seed=ctx.task.seed, concurrency=2).fit()
    candidates = result.details["candidates"]
    kinds = sorted({c["source"] for c in candidates})
    first = sum(1 for c in candidates if not c.get("cycle") and "+" not in c["source"])
    cycle_rung = min((c["examples"] for c in candidates if c.get("cycle")), default=0)
    refined = sum(1 for c in candidates if c.get("cycle") and c["examples"] == cycle_rung)
    return SystemOutcome(instruction=system_prompt(instruction.data, examples.data), steps=1,
                         notes=f"{first} candidates in the first race ({', '.join(kinds)}), {refined} in refinement "
                               f"cycles; chose {result.details['chosen']}; stopped: {result.stopped}")
