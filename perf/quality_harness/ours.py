"""optotrace's own systems: an optimizer over the task's instruction, driven through optotrace's Trainer.

The Trainer runs one step per `fit()` (resuming its run directory), so the loop can stop before a step that
would pass the call budget: a step costs a minibatch, the optimizer's calls and a dev-set evaluation.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .context import RunContext, SystemOutcome

OptimizerFactory = Callable[[list[Any], Any, Any], Any]  # (params, optimizer llm, task) -> optimizer


def instruction_workflow(ctx: RunContext) -> tuple[Callable[[str], Any], Any]:
    """(agent, instruction parameter): one model call with the trainable instruction as the system prompt."""
    import optotrace as ot

    task, llm = ctx.task, ctx.llm("workflow")
    instruction = ot.node(task.start_instruction, name="instruction", trainable=True, role="instruction",
                          description=f"the system prompt of the model that answers each {task.name} question; "
                                      f"its reply must end with {task.answer_format}")

    @ot.bundle()
    def answer(instruction: str, question: str) -> str:
        """Ask the model the question with the instruction as its system prompt; its reply."""
        return llm.complete(task.messages(instruction, {"input": question}), max_tokens=task.max_tokens).text

    def agent(question: str) -> Any:
        return answer(instruction, ot.node(question, name="question"))

    return agent, instruction


def run_with_trainer(ctx: RunContext, make_optimizer: OptimizerFactory, batch_size: int = 4) -> SystemOutcome:
    from optotrace.optimizers import Trainer

    agent, instruction = instruction_workflow(ctx)
    optimizer = make_optimizer([instruction], ctx.llm("optimizer"), ctx.task)
    step, worst_step = 0, batch_size + 3 + len(ctx.dev)
    first = len(ctx.dev)  # the Trainer scores the dev set once before the first step
    while ctx.calls_used() + worst_step + first <= ctx.budget:
        before = ctx.calls_used()
        trainer = Trainer(agent, optimizer, ctx.task.train, ctx.dev, metric=ctx.task.score, minibatch_size=batch_size,
                          steps=step + 1, concurrency=2, run_dir=ctx.run_dir / "trainer", resume=step > 0,
                          seed=ctx.task.seed, progress=False)
        result = trainer.fit()
        step, first = result.steps, 0
        worst_step = max(worst_step, ctx.calls_used() - before)
    return SystemOutcome(instruction=instruction.data, steps=step,
                         notes=f"{step} steps of batch {batch_size}, best of dev ({len(ctx.dev)}) kept")


def trainer_system(make_optimizer: OptimizerFactory, batch_size: int = 4) -> Callable[[RunContext], SystemOutcome]:
    def run(ctx: RunContext) -> SystemOutcome:
        return run_with_trainer(ctx, make_optimizer, batch_size)

    return run


# -- the optimizers as they are today ------------------------------------------------------------------------


def optoprime(params: list[Any], llm: Any, task: Any) -> Any:
    from optotrace.optimizers import OptoPrime

    return OptoPrime(params, llm=llm, memory_size=2, objective=task.objective, max_tokens=400)


def opro(params: list[Any], llm: Any, task: Any) -> Any:
    from optotrace.optimizers import OPRO

    return OPRO(params, llm=llm, objective=task.objective, max_tokens=300)


def textgrad(params: list[Any], llm: Any, task: Any) -> Any:
    from optotrace.optimizers import TextGrad

    return TextGrad(params, llm=llm, objective=task.objective, max_gradient_calls=4, max_tokens=300,
                    gradient_max_tokens=160)


def induction(params: list[Any], llm: Any, task: Any) -> Any:
    from optotrace.optimizers import InstructionInduction

    return InstructionInduction(params, llm=llm, objective=task.objective)


def code_rewrite(params: list[Any], llm: Any, task: Any) -> Any:
    from optotrace.optimizers import CodeRewrite

    return CodeRewrite(params, llm=llm, objective=task.objective)
